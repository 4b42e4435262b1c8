import type { FastifyInstance } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { intParam } from '../routes/api-input.js';
import { redeliver } from '../redeliver.js';
import type { DashboardOptions } from './options.js';
import { pages } from './lazy-pages.js';
import { requireCsrf } from './session-auth.js';
import { sendPage } from './send.js';
import { formBody } from './form.js';
import type { Session } from './sessions.js';

/**
 * The Redeliver button of the deliveries pages: `POST /deliveries/:id/redeliver` with the
 * session's CSRF token, confirmed (`confirm=yes`; without it a confirmation page), re-runs the
 * stored request through the same code as `POST /api/deliveries/:id/redeliver`, then sends the
 * browser to the job it queued, or to the new delivery that says why nothing was.
 */
export async function redeliverRoute(app: FastifyInstance, { deps }: DashboardOptions): Promise<void> {
  app.post<{ Params: { id: string } }>('/deliveries/:id/redeliver', async (req, reply) => {
    const id = intParam(req.params.id, 'delivery id');
    const form = formBody(req);
    requireCsrf(req, form.get('_csrf') ?? undefined);
    const d = deps.store.getDelivery(id);
    if (!d) throw new AppError('not_found', `no delivery ${id}`);
    if (form.get('confirm') !== 'yes') {
      return sendPage(reply, (await pages()).confirmPage(req.session as Session, {
        title: `Redeliver delivery #${id}?`,
        what: `autopull runs the stored request (${d.provider ?? 'unknown sender'} ${d.event ?? ''} for ${d.repo ?? 'no repo'}) through the pipeline again, as if it had just come; a tracked ref queues a job.`,
        action: `/deliveries/${id}/redeliver`,
        fields: {},
        button: 'Yes, redeliver',
        back: `/deliveries/${id}`,
      }));
    }
    const out = redeliver(deps, req.log, id, req.clientAddress);
    const jobs = (out.body.jobs as number[] | undefined) ?? [];
    return reply.redirect(jobs.length > 0 ? `/jobs/${jobs[0]}` : `/deliveries/${out.ledgerId}`, 303);
  });
}
