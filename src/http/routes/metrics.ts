import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

/**
 * `GET /metrics`: Prometheus text format, without a token (Prometheus scrapes it, and it holds
 * only counts, durations and configured repo names: README "Metrics", docs/SECURITY.md).
 */
export async function metricsRoutes(app: FastifyInstance, metrics: Metrics): Promise<void> {
  app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.text()));
}
