import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createRequire } from 'node:module';
import type { AppDeps } from './deps.js';
import type { Config } from '../config/load.js';
export type { AppDeps } from './deps.js';
import { AppError } from '../lib/errors.js';
import { sendAppError, sendError } from './reply.js';
import { hookRoutes, recordRejectedDelivery } from './routes/hooks.js';
import { apiRoutes } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { Metrics } from '../metrics/metrics.js';
import { applyLimits, serverLimitOptions } from './limits.js';
import { registerDashboard } from './dashboard/index.js';
import { HookLimits } from '../webhooks/hook-limits.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The rate limits of the webhook routes (limits.rate), counted in the metrics. */
    hookLimits: HookLimits;
  }
}


/**
 * Whose X-Forwarded-For to believe, as fastify takes it. `true` trusts the TCP peer only
 * (hop 0), so the client is the right-most entry, which that proxy appended: fastify's own
 * `true` would trust every hop and take the left-most entry, which the client wrote itself.
 * A CIDR list trusts those addresses: the client is the right-most entry not in them.
 */
export function trustProxy(setting: Config['trust_proxy']): false | ((address: string, hop: number) => boolean) | string[] {
  if (setting === true) return (_address, hop) => hop === 0;
  return setting === false || setting.length === 0 ? false : [...setting];
}

/**
 * fastify's default schema compilers (ajv, fast-json-stringify), loaded when a route first
 * has a schema. No route has one (bodies are checked with zod where they are read): loading
 * them at every start cost ~65 ms of CPU and ~10 MiB.
 */
function lazySchemaCompilers(): NonNullable<FastifyServerOptions['schemaController']> {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  type Factory = (...args: unknown[]) => unknown;
  let validator: Factory | undefined;
  let serializer: Factory | undefined;
  return {
    compilersFactory: {
      buildValidator: ((...args: unknown[]) => (validator ??= (fromFastify('@fastify/ajv-compiler') as () => Factory)())(...args)) as never,
      buildSerializer: ((...args: unknown[]) => (serializer ??= (fromFastify('@fastify/fast-json-stringify-compiler') as () => Factory)())(...args)) as never,
    },
  };
}

/**
 * Builds the HTTP app without listening: tests use `inject`, `serve` calls listen. With
 * `https` (the config's `tls:`, read) it serves HTTPS; the server's certificate can then be
 * replaced while it runs (`app.server.setSecureContext`, on a reload).
 */
export async function buildApp(deps: AppDeps, opts: { https?: { cert: Buffer; key: Buffer } } = {}): Promise<FastifyInstance> {
  const options: FastifyServerOptions = {
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Deliveries are logged by the hooks route with their outcome; per-request lines add noise.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.body_limit,
    trustProxy: trustProxy(deps.config.trust_proxy),
    return503OnClosing: true,
    schemaController: lazySchemaCompilers(),
    ...serverLimitOptions(deps.config.limits),
    // Errors fastify's router raises before any route runs (a malformed %-escape, a path
    // parameter over its length) answer in autopull's JSON like every other refusal.
    frameworkErrors: (err, _req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const path = reply.request.url.slice(0, 80);
      return sendError(reply, tooLong ? 'uri_too_long' : 'bad_request', tooLong ? `a part of the path ${path}... is longer than a name can be` : `the path ${path} is not valid URL text (a malformed %-escape)`);
    },
  };
  // Fastify types an HTTPS app apart (its raw server is an https.Server); every route and hook
  // here works on both, so it is used as the plain type.
  const app = (opts.https ? Fastify({ ...options, https: { cert: opts.https.cert, key: opts.https.key } } as FastifyServerOptions) : Fastify(options)) as FastifyInstance;
  applyLimits(app, deps.config.limits, deps.logger);

  // Signatures cover the exact bytes received: every body stays a Buffer, parsed later.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) return sendAppError(reply, err);
    const status = err.statusCode ?? 500;
    if (status === 413) {
      const message = `body is larger than the limit of ${deps.config.body_limit} bytes (body_limit)`;
      if (req.url.startsWith('/hooks')) recordRejectedDelivery(deps, req, 413, 'body_too_large', message);
      return sendError(reply, 'body_too_large', message);
    }
    if (status === 415) return sendError(reply, 'unsupported_media_type', err.message);
    if (status >= 400 && status < 500) return sendError(reply, 'bad_request', err.message);
    req.log.error({ err }, 'internal error');
    return sendError(reply, 'internal', 'internal error in autopull; see its log');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));

  const hookLimits = new HookLimits(deps.config.limits.rate);
  app.decorate('hookLimits', hookLimits);

  await registerDashboard(app, deps);
  await app.register(healthRoutes);
  await app.register(hookRoutes, deps);
  await app.register(apiRoutes, deps);
  let metrics = deps.metrics;
  if (!metrics) {
    const own = new Metrics(deps.config, deps.store, deps.logger);
    app.addHook('onClose', async () => own.close());
    metrics = own;
  }
  metrics.watchHookLimits(hookLimits);
  await app.register(metricsRoutes, metrics);
  return app;
}
