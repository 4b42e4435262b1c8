import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.js';
import { AppError } from '../../lib/errors.js';
import { intParam } from './api-input.js';
import { EventHub, eventOptions, type FeedEntry } from '../events/event-hub.js';
import { followJob } from '../events/follow-job.js';
import type { SseStream } from '../events/sse-stream.js';

/**
 * Server-Sent Events (text/event-stream), each event emitted after its data was committed:
 * - `GET /api/events`: every job change (`job`, the job row) and new delivery (`delivery`,
 *   the ledger row without headers and body); resumes after Last-Event-ID within the last
 *   few hundred events, else sends `reset` (reload what you show);
 * - `GET /api/jobs/:id/events`: one job's `state` and `log` lines (id = the line's seq;
 *   Last-Event-ID or `?after=SEQ` resumes after it), then `end` when the job is final.
 * Past the cap on open streams the answer is 503 with Retry-After.
 */
export async function eventApiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const hub = new EventHub(deps.store, eventOptions(deps.config.limits, deps.events), deps.logger);
  app.addHook('preClose', async () => hub.close());

  const open = (req: FastifyRequest, reply: FastifyReply): SseStream => {
    if (hub.size >= hub.options.maxClients) {
      void reply.header('retry-after', '5');
      throw new AppError('overloaded', `autopull has ${hub.options.maxClients} event streams open, its limit; try again shortly`);
    }
    reply.hijack();
    return hub.open(req.raw, reply.raw) as SseStream;
  };

  app.get<{ Querystring: { last_event_id?: string } }>('/api/events', async (req, reply) => {
    const lastId = lastEventId(req) ?? req.query.last_event_id;
    const stream = open(req, reply);
    const send = (e: FeedEntry) => {
      const data = hub.payload(e);
      if (data !== null) stream.event(e.type, data, hub.feedId(e.n));
    };
    if (lastId !== undefined) {
      const missed = hub.feedAfter(lastId);
      if (missed === null) stream.event('reset', { message: `cannot resume after event ${lastId.slice(0, 40)}; reload the current state` });
      else for (const e of missed) send(e);
    }
    stream.onClose(hub.onFeed(send));
    return reply;
  });

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/api/jobs/:id/events', async (req, reply) => {
    const id = intParam(req.params.id, 'job id');
    const header = lastEventId(req);
    const after = header !== undefined ? intParam(header, 'Last-Event-ID') : req.query.after !== undefined ? intParam(req.query.after, 'after') : 0;
    const job = deps.store.getJob(id);
    if (!job) throw new AppError('not_found', `no job ${req.params.id}`);
    followJob(hub, deps.store, open(req, reply), job, after);
    return reply;
  });
}

function lastEventId(req: FastifyRequest): string | undefined {
  const v = req.headers['last-event-id'];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
