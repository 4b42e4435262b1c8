import type { FastifyInstance } from 'fastify';
import { z } from '../../lib/zod.js';
import type { AppDeps } from '../deps.js';
import { jsonBody } from './api-input.js';
import { simulatePush } from '../simulate.js';

const simulateBody = z.strictObject({
  sender: z.string().min(1).max(100),
  ref: z.string().min(1).max(1024),
});

/**
 * `POST /api/repos/:repo/simulate` with `{"sender": "github", "ref": "refs/heads/main"}`: a
 * delivery made and signed as that sender would, put through the webhook pipeline (see
 * http/simulate.ts). The answer is the hook's (202 with `jobs` for a tracked ref, 200 with the
 * reason when nothing is to do) plus `ledger_id`; 400 for an unknown sender (naming the known
 * ones), 404 for an unknown repo, 409 for a repo without a secret.
 */
export async function simulateApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Params: { repo: string } }>('/api/repos/:repo/simulate', async (req, reply) => {
    const body = jsonBody(req, simulateBody);
    const out = simulatePush(deps, req.log, { repo: req.params.repo, sender: body.sender, ref: body.ref, remoteAddress: req.clientAddress, by: req.session && !req.headers.authorization ? 'dashboard' : 'api' });
    return reply.code(out.status).send(out.body);
  });
}
