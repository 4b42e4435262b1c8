import type { Job } from '../../../store/store.js';
import type { RepoStatus } from '../../../runner/status.js';
import type { MirrorStatus } from '../../../store/mirror-status.js';
import { html, type SafeHtml } from '../html.js';
import { ago, badge, seconds, sha } from '../format.js';
import { page } from '../layout.js';
import type { Session } from '../sessions.js';

export interface OverviewRepo {
  status: RepoStatus;
  /** When the live release was made. */
  liveSince: string | null;
  /** The supervised app's state, when the server knows one. */
  app: string | null;
  /** The last pushed deploy's time from the delivery to its release live (Store.lastPushToLive). */
  pushToLive: { job: number; seconds: number } | null;
}

function jobLink(j: Job): SafeHtml {
  return html`<a href="/jobs/${j.id}">#${j.id}</a>`;
}

function mirrors(list: MirrorStatus[]): SafeHtml {
  if (list.length === 0) return html`<span class="muted">no mirror pushed yet</span>`;
  return html`<ul class="plain">${list.map(
    (m) => html`<li>${badge(m.state)} <span class="wrap">${m.target}</span>${m.state !== 'ok' && m.last_error ? html`<br><small class="muted">${m.last_error.slice(0, 200)}</small>` : html``}</li>`,
  )}</ul>`;
}

function now(s: RepoStatus): SafeHtml {
  if (s.active.length === 0) return html`<span class="muted">idle</span>`;
  return html`${s.active.map((j) => html`${badge(j.state)} ${jobLink(j)} ${j.kind} ${j.ref ?? ''} `)}`;
}

function repoCard(r: OverviewRepo, at: Date): SafeHtml {
  const s = r.status;
  const last = s.last;
  const state = s.running ? 'running' : last ? last.state : 'idle';
  return html`<article class="card repo" id="repo-${s.repo}" data-repo="${s.repo}">
  <header><h2><a href="/repos/${encodeURIComponent(s.repo)}">${s.repo}</a></h2> ${badge(state)}</header>
  <dl>
    <dt>Live</dt>
    <dd>${s.current ? html`${sha(s.current.sha)} <span class="muted wrap">${s.current.release}</span>, ${ago(r.liveSince, at)}` : html`<span class="muted">${s.deploy_path ? 'nothing deployed yet' : 'no deploy (mirror only)'}</span>`}</dd>
    <dt>Last job</dt>
    <dd>${last ? html`${jobLink(last)} ${last.kind} ${badge(last.state)} ${ago(last.finished_at ?? last.updated_at, at)}${last.reason ? html`<br><small class="wrap">${last.reason.slice(0, 300)}</small>` : html``}` : html`<span class="muted">none yet</span>`}</dd>
    ${s.deploy_path ? html`<dt>Push to live</dt><dd class="push-to-live">${r.pushToLive ? html`${seconds(r.pushToLive.seconds)} <span class="muted small">(<a href="/jobs/${r.pushToLive.job}">#${r.pushToLive.job}</a>)</span>` : html`<span class="muted">no pushed deploy yet</span>`}</dd>` : html``}
    <dt>Now</dt>
    <dd>${now(s)}</dd>
    ${r.app !== null ? html`<dt>App</dt><dd>${badge(r.app)}</dd>` : html``}
    ${s.mirrors.length > 0 || last?.kind === 'mirror' ? html`<dt>Mirrors</dt><dd>${mirrors(s.mirrors)}</dd>` : html``}
  </dl>
  <p class="actions"><a class="button" href="/repos/${encodeURIComponent(s.repo)}/simulate">Simulate a push</a> <a href="/deliveries?repo=${encodeURIComponent(s.repo)}">Deliveries</a></p>
</article>`;
}

function jobRow(j: Job, at: Date): SafeHtml {
  return html`<tr>
  <td>${jobLink(j)}</td><td><a href="/repos/${encodeURIComponent(j.repo)}">${j.repo}</a></td><td class="wide-only">${j.kind}</td><td class="wrap">${j.ref ?? ''}</td>
  <td>${badge(j.state)}</td><td>${ago(j.finished_at ?? j.started_at ?? j.created_at, at)}</td>
</tr>`;
}

export function overviewPage(session: Session, repos: OverviewRepo[], recent: Job[], at: Date): SafeHtml {
  return page(
    { title: 'Overview', session, nav: 'overview', live: 'refresh' },
    html`<h1>Overview</h1>
<section class="repos" aria-label="Repositories">
${repos.length === 0 ? html`<p>No repos are configured.</p>` : repos.map((r) => repoCard(r, at))}
</section>
<section aria-labelledby="recent-jobs">
<h2 id="recent-jobs">Recent jobs</h2>
${recent.length === 0
  ? html`<p class="muted">No jobs yet: push, or simulate a push for a repo.</p>`
  : html`<div class="scroll"><table>
<thead><tr><th scope="col">Job</th><th scope="col">Repo</th><th scope="col" class="wide-only">Kind</th><th scope="col">Ref</th><th scope="col">State</th><th scope="col">When</th></tr></thead>
<tbody>${recent.map((j) => jobRow(j, at))}</tbody>
</table></div>`}
</section>`,
  );
}
