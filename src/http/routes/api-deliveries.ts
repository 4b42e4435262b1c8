import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { parseRepoName } from '../../lib/ids.js';
import { receiveAny, receiveForRepo } from '../../webhooks/receive.js';
import type { ProviderId } from '../../config/schema.js';
import { recordDecision } from './hooks.js';
import { REJECTED_BODY_LIMIT, REJECTED_HEADER_COUNT } from '../cap-rejected.js';
import { intParam, limitParam } from './api-input.js';

/** /api/deliveries: the delivery ledger, one delivery with its body, and redelivery. */
export async function deliveryApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: { repo?: string; limit?: string } }>('/api/deliveries', async (req) => {
    const list = deps.store.listDeliveries({ repo: req.query.repo, limit: limitParam(req.query.limit) }).map(({ body: _b, ...d }) => d);
    return { ok: true, deliveries: list };
  });

  app.get<{ Params: { id: string } }>('/api/deliveries/:id', async (req) => {
    const d = deps.store.getDelivery(intParam(req.params.id, 'delivery id'));
    if (!d) throw new AppError('not_found', `no delivery ${req.params.id}`);
    return { ok: true, delivery: { ...d, body: d.body.toString('utf8') } };
  });

  /**
   * Re-runs a stored delivery through the pipeline on purpose (a sender that keeps its
   * delivery id on redelivery, like GitHub, would otherwise be a duplicate). The operator is
   * authenticated by the bearer token and the stored signature headers are redacted, so the
   * duplicate check, allow_ips and the signature are skipped. The result is a new ledger row
   * with `redelivery_of` set, and the answer is a hook's.
   */
  app.post<{ Params: { id: string } }>('/api/deliveries/:id/redeliver', async (req, reply) => {
    const id = intParam(req.params.id, 'delivery id');
    const d = deps.store.getDelivery(id);
    if (!d) throw new AppError('not_found', `no delivery ${req.params.id}`);
    if (d.status_code === 401 || d.status_code === 403) {
      // Its sender never proved who it was: a redelivery would skip the check it failed.
      throw new AppError('conflict', `delivery ${id} failed authentication (${d.status_code} ${d.outcome}); only authenticated deliveries can be redelivered`);
    }
    if (d.body_truncated) {
      throw new AppError('conflict', `delivery ${id} cannot be redelivered: it was not stored whole (a rejected delivery keeps at most ${REJECTED_BODY_LIMIT / 1024} KiB of its body and ${REJECTED_HEADER_COUNT} headers, one over body_limit no body)`);
    }
    const raw = { headers: d.headers, rawBody: d.body, query: {}, remoteAddress: req.clientAddress };
    const receiveDeps = {
      config: deps.config,
      now: deps.now?.() ?? new Date(),
      isDuplicate: () => false,
      redelivery: { provider: d.provider as ProviderId | null },
    };
    const repos = (d.repo ?? '').split(',').filter((r) => r !== '');
    const single = repos.length === 1 && parseRepoName(repos[0] as string) !== null ? (repos[0] as string) : null;
    const decision = single !== null ? receiveForRepo(raw, single, receiveDeps) : receiveAny(raw, receiveDeps);
    const out = recordDecision(deps, req.log, decision, raw, d.headers, { repoParam: single ?? undefined, redeliveryOf: id });
    return reply.code(out.status).send({ ...out.body, redelivery_of: id });
  });
}
