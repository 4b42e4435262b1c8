import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../lib/version.js';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ ok: true, status: 'ok', version: VERSION }));
}
