import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { redeliver } from '../redeliver.js';
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

  /** Re-runs a stored delivery through the pipeline on purpose (see http/redeliver.ts); the answer is a hook's plus `redelivery_of`. */
  app.post<{ Params: { id: string } }>('/api/deliveries/:id/redeliver', async (req, reply) => {
    const id = intParam(req.params.id, 'delivery id');
    const out = redeliver(deps, req.log, id, req.clientAddress);
    return reply.code(out.status).send({ ...out.body, ledger_id: out.ledgerId, redelivery_of: id });
  });
}
