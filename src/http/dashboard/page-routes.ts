import type { FastifyInstance } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { repoStatusWithApps } from '../../runner/status.js';
import { intParam } from '../routes/api-input.js';
import { simulatePush } from '../simulate.js';
import type { DashboardOptions } from './options.js';
import type { OverviewRepo } from './pages/overview.js';
import { pages } from './lazy-pages.js';
import { requireCsrf } from './session-auth.js';
import { sendPage } from './send.js';
import { formBody } from './form.js';
import type { Session } from './sessions.js';

/** The dashboard's pages; every one needs a session (the plugin's guard sends others to /login). */
export async function pageRoutes(app: FastifyInstance, { deps }: DashboardOptions): Promise<void> {
  const now = () => deps.now?.() ?? new Date();
  const session = (s: Session | null) => s as Session;

  app.get('/', async (req, reply) => {
    const repos: OverviewRepo[] = (await repoStatusWithApps(deps.config, deps.store, undefined, deps.apps)).map((status) => ({
      status,
      liveSince: status.current ? (deps.store.getRelease(status.repo, status.current.release)?.created_at ?? null) : null,
      app: status.app?.state ?? null,
      pushToLive: status.deploy_path ? deps.store.lastPushToLive(status.repo) : null,
    }));
    return sendPage(reply, (await pages()).overviewPage(session(req.session), repos, deps.store.listJobs({ limit: 15 }), now()));
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const job = deps.store.getJob(intParam(req.params.id, 'job id'));
    if (!job) throw new AppError('not_found', `no job ${req.params.id.slice(0, 20)}`);
    // One more line than shown tells the page that the rest is to be streamed.
    const { jobPage, PAGE_LINES } = await pages();
    return sendPage(reply, jobPage(session(req.session), job, deps.store.logsAfter(job.id, 0, PAGE_LINES + 1), now()));
  });

  app.get<{ Querystring: { repo?: string } }>('/deliveries', async (req, reply) => {
    const repo = req.query.repo || undefined;
    const list = deps.store.listDeliveries({ repo, limit: 100 });
    return sendPage(reply, (await pages()).deliveriesPage(session(req.session), list, [...deps.config.repos.keys()], repo, now()));
  });

  app.get<{ Params: { id: string } }>('/deliveries/:id', async (req, reply) => {
    const d = deps.store.getDelivery(intParam(req.params.id, 'delivery id'));
    if (!d) throw new AppError('not_found', `no delivery ${req.params.id.slice(0, 20)}`);
    return sendPage(reply, (await pages()).deliveryPage(session(req.session), d, now()));
  });

  const repoOf = (name: string) => {
    const repo = deps.config.repos.get(name as never);
    if (!repo) throw new AppError('unknown_repo', `no repo named "${name.slice(0, 100)}" is configured`);
    return repo;
  };

  app.get<{ Params: { repo: string } }>('/repos/:repo/simulate', async (req, reply) => sendPage(reply, (await pages()).simulatePage(session(req.session), repoOf(req.params.repo))));

  /**
   * The form's post: without script, the browser follows the answer to the job (or, when
   * nothing was queued, to the delivery that says why). dashboard.js sends the same through
   * the API instead and goes to the same place.
   */
  app.post<{ Params: { repo: string } }>('/repos/:repo/simulate', async (req, reply) => {
    const repo = repoOf(req.params.repo);
    const form = formBody(req);
    requireCsrf(req, form.get('_csrf') ?? undefined);
    const sender = form.get('sender') ?? '';
    const ref = (form.get('ref') ?? '').trim();
    try {
      if (ref === '') throw new AppError('bad_request', 'give the ref to push, like refs/heads/main');
      const out = simulatePush(deps, req.log, { repo: repo.name, sender, ref, remoteAddress: req.clientAddress, by: 'dashboard' });
      const jobs = (out.body.jobs as number[] | undefined) ?? [];
      return reply.redirect(jobs.length > 0 ? `/jobs/${jobs[0]}` : `/deliveries/${out.ledgerId}`, 303);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return sendPage(reply.code(err.status), (await pages()).simulatePage(session(req.session), repo, { sender, ref, error: err.message }));
    }
  });
}
