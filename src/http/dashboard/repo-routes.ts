import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { repoStatusWithApps } from '../../runner/status.js';
import { releasesReport, unmarkCommit } from '../../runner/releases-view.js';
import { enqueueManual, enqueueRollback } from '../../runner/manual.js';
import type { DashboardOptions } from './options.js';
import type { RepoView } from './pages/repo.js';
import { pages } from './lazy-pages.js';
import type { AppDeps } from '../deps.js';
import type { RepoConfig } from '../../config/load.js';
import { requireCsrf } from './session-auth.js';
import { sendPage } from './send.js';
import { formBody } from './form.js';
import type { Session } from './sessions.js';

/** What the repo page shows; `unmarked` the sha the page says was just unmarked. */
async function repoView(deps: AppDeps, repo: RepoConfig, unmarked: unknown): Promise<RepoView> {
  const [status] = await repoStatusWithApps(deps.config, deps.store, repo.name, deps.apps);
  if (!status) throw new AppError('unknown_repo', `no repo named "${repo.name}" is configured`);
  // Said only of a full sha that is indeed not marked (a made-up link cannot claim otherwise).
  const sha = typeof unmarked === 'string' && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(unmarked) && deps.store.getBad(repo.name, unmarked) === null ? unmarked : null;
  return {
    status,
    releases: releasesReport(deps.config, deps.store, repo.name),
    jobs: deps.store.listJobs({ repo: repo.name, limit: 20 }),
    pushToLive: deps.store.lastPushToLive(repo.name),
    mirrors: (repo.mirror?.length ?? 0) > 0,
    notice: sha ? `${sha} is no longer marked bad; the next push or "Deploy now" may deploy it.` : undefined,
  };
}

type RepoRequest = FastifyRequest<{ Params: { repo: string } }>;

/**
 * The repo page (/repos/REPO) and its buttons. Each button posts a form with the session's
 * CSRF token and goes through the code the API and the CLI use: "Deploy now" queues a job
 * like `autopull deploy`, "Roll back" one like `autopull rollback` (through the gate), and
 * "Unmark" clears a bad mark like `autopull unmark`. A deploy or rollback form posted without
 * its `confirm=yes` field gets a confirmation page first; after the change the browser goes
 * to the job's page (or, for an unmark, back to the repo page, which says what changed).
 */
export async function repoRoutes(app: FastifyInstance, { deps }: DashboardOptions): Promise<void> {
  const now = () => deps.now?.() ?? new Date();
  const repoOf = (name: string) => {
    const repo = deps.config.repos.get(name as never);
    if (!repo) throw new AppError('unknown_repo', `no repo named "${name.slice(0, 100)}" is configured`);
    return repo;
  };
  /** The form's fields after the CSRF check; a change needs a session's token. */
  const checkedForm = (req: FastifyRequest) => {
    const form = formBody(req);
    requireCsrf(req, form.get('_csrf') ?? undefined);
    return form;
  };
  const toJob = (req: RepoRequest, reply: FastifyReply, id: number) => {
    setImmediate(() => deps.kick(req.params.repo));
    return reply.redirect(`/jobs/${id}`, 303);
  };
  const back = (repo: string) => `/repos/${encodeURIComponent(repo)}`;

  app.get<{ Params: { repo: string }; Querystring: { unmarked?: string } }>('/repos/:repo', async (req, reply) => {
    const view = await repoView(deps, repoOf(req.params.repo), req.query.unmarked);
    return sendPage(reply, (await pages()).repoPage(req.session as Session, view, now()));
  });

  app.post<{ Params: { repo: string } }>('/repos/:repo/deploy', async (req, reply) => {
    const repo = repoOf(req.params.repo);
    const form = checkedForm(req);
    const ref = (form.get('ref') ?? '').trim();
    const force = form.get('force') === 'yes';
    if (form.get('confirm') !== 'yes') {
      return sendPage(reply, (await pages()).confirmPage(req.session as Session, {
        title: `Deploy ${repo.name}?`,
        what: `autopull fetches ${repo.name} and deploys ${ref === '' ? 'the tracked branch' : ref}${force ? ', even if that commit is live already' : ''}.`,
        action: `${back(repo.name)}/deploy`,
        fields: { ref, ...(force ? { force: 'yes' } : {}) },
        button: `Yes, deploy ${repo.name}`,
        back: back(repo.name),
      }));
    }
    const { id } = enqueueManual(deps.config, deps.store, repo.name, ref === '' ? undefined : ref, force);
    req.log.info({ repo: repo.name, job: id }, `dashboard: deploy of ${repo.name} queued (job ${id})`);
    return toJob(req, reply, id);
  });

  app.post<{ Params: { repo: string } }>('/repos/:repo/rollback', async (req, reply) => {
    const repo = repoOf(req.params.repo);
    const form = checkedForm(req);
    const to = (form.get('to') ?? '').trim();
    if (form.get('confirm') !== 'yes') {
      return sendPage(reply, (await pages()).confirmPage(req.session as Session, {
        title: `Roll back ${repo.name}?`,
        what: `${to === '' ? 'The previous good release' : `Release ${to}`} goes live again through the health check, and the commit live now is marked bad.`,
        action: `${back(repo.name)}/rollback`,
        fields: { to },
        button: `Yes, roll back ${repo.name}`,
        back: back(repo.name),
      }));
    }
    const { id } = enqueueRollback(deps.config, deps.store, repo.name, to === '' ? undefined : to);
    req.log.info({ repo: repo.name, job: id }, `dashboard: rollback of ${repo.name} queued (job ${id})`);
    return toJob(req, reply, id);
  });

  app.post<{ Params: { repo: string; sha: string } }>('/repos/:repo/bad/:sha/unmark', async (req, reply) => {
    const repo = repoOf(req.params.repo);
    checkedForm(req);
    const bad = unmarkCommit(deps.config, deps.store, repo.name, req.params.sha);
    req.log.info({ repo: repo.name, sha: bad.sha }, `dashboard: bad mark of ${bad.sha} cleared`);
    return reply.redirect(`${back(repo.name)}?unmarked=${bad.sha}`, 303);
  });
}
