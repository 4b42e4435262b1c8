import type { Job } from '../../../store/store.js';
import type { RepoStatus } from '../../../runner/status.js';
import type { ReleasesReport, ReleaseView } from '../../../runner/releases-view.js';
import type { MirrorStatus } from '../../../store/mirror-status.js';
import { html, type SafeHtml } from '../html.js';
import { ago, badge, between, seconds, sha } from '../format.js';
import { page } from '../layout.js';
import type { Session } from '../sessions.js';

export interface RepoView {
  status: RepoStatus;
  releases: ReleasesReport;
  jobs: Job[];
  /** Seconds from the push's delivery to its release live, for the last deploy a delivery queued. */
  pushToLive: { job: number; seconds: number } | null;
  /** The config names mirror targets for it. */
  mirrors: boolean;
  /** A line to show at the top (after an unmark, say). */
  notice?: string;
}

const path = (repo: string) => `/repos/${encodeURIComponent(repo)}`;

/** Whether a release passed its health check: yes (live or replaced), failed, or not (yet). */
function health(r: ReleaseView): SafeHtml {
  if (r.known_good) return html`<span class="badge b-ok" data-health="good">passed</span>`;
  if (r.failed) return html`<span class="badge b-bad" data-health="failed">failed</span>`;
  return html`<span class="muted" data-health="none">not checked</span>`;
}

function releasesTable(report: ReleasesReport, at: Date): SafeHtml {
  if (report.releases.length === 0) return html`<p class="muted">${report.deploy_path ? 'No releases yet.' : 'This repo has no deploy: section.'}</p>`;
  return html`<div class="scroll"><table class="releases">
<thead><tr><th scope="col">Release</th><th scope="col" class="wide-only">Commit</th><th scope="col">State</th><th scope="col">Health</th><th scope="col" class="wide-only">Job</th><th scope="col" class="wide-only">Made</th></tr></thead>
<tbody>${report.releases.map(
    (r) => html`<tr data-release="${r.id}" data-state="${r.state}"${r.current ? html` data-current="yes"` : html``}>
  <td class="wrap">${r.current ? html`<strong>${r.id}</strong>` : r.id}</td>
  <td class="wide-only">${sha(r.sha)}</td><td>${badge(r.state)}</td><td>${health(r)}</td>
  <td class="wide-only">${r.job_id !== null ? html`<a href="/jobs/${r.job_id}">#${r.job_id}</a>` : ''}</td>
  <td class="wide-only">${ago(r.created_at, at)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

function badTable(repo: string, report: ReleasesReport, csrf: string, at: Date): SafeHtml {
  if (report.bad.length === 0) return html`<p class="muted">No commit is marked bad.</p>`;
  return html`<div class="scroll"><table class="bad">
<thead><tr><th scope="col">Commit</th><th scope="col">Why</th><th scope="col" class="wide-only">Job</th><th scope="col">Marked</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${report.bad.map(
    (b) => html`<tr data-bad="${b.sha}">
  <td>${sha(b.sha)}</td><td class="wrap why">${b.reason}</td>
  <td class="wide-only">${b.job_id !== null ? html`<a href="/jobs/${b.job_id}">#${b.job_id}</a>` : ''}</td>
  <td>${ago(b.marked_at, at)}</td>
  <td><form method="post" action="${path(repo)}/bad/${b.sha}/unmark" class="inline-form">
    <input type="hidden" name="_csrf" value="${csrf}">
    <button type="submit" class="small-button" aria-label="Unmark ${b.sha.slice(0, 7)}">Unmark</button>
  </form></td>
</tr>`,
  )}</tbody></table></div>
<p class="muted small">Unmarking deploys nothing: the next push or "Deploy now" may deploy the commit again.</p>`;
}

function jobsTable(jobs: Job[], at: Date): SafeHtml {
  if (jobs.length === 0) return html`<p class="muted">No jobs yet.</p>`;
  return html`<div class="scroll"><table class="jobs">
<thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col" class="wide-only">Ref</th><th scope="col">State</th><th scope="col">When</th><th scope="col" class="wide-only">Took</th></tr></thead>
<tbody>${jobs.map(
    (j) => html`<tr data-job="${j.id}">
  <td><a href="/jobs/${j.id}">#${j.id}</a></td><td>${j.kind} <span class="muted small">${j.trigger}</span></td><td class="wrap wide-only">${j.ref ?? ''}</td>
  <td>${badge(j.state)}</td><td>${ago(j.finished_at ?? j.started_at ?? j.created_at, at)}</td><td class="wide-only">${between(j.started_at, j.finished_at)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

function mirrorsList(s: RepoStatus, at: Date): SafeHtml {
  if (s.mirrors.length === 0) return html`<p class="muted">No mirror target has run yet.</p>`;
  return html`<ul class="plain mirrors">${s.mirrors.map(
    (m: MirrorStatus) => html`<li data-mirror="${m.target}">${badge(m.state)} <span class="wrap">${m.target}</span>
  <br><small class="muted">last success ${ago(m.last_success_at, at)}${m.summary ? html`: ${m.summary}` : html``}${m.state !== 'ok' && m.last_error ? html`; ${m.failures} failure(s), last: ${m.last_error.slice(0, 300)}` : html``}</small></li>`,
  )}</ul>`;
}

/** The two buttons that change what runs; each opens its confirmation first (a <details>, no script needed). */
function actions(v: RepoView, csrf: string): SafeHtml {
  const s = v.status;
  if (!s.deploy_path) return html``;
  const good = v.releases.releases.filter((r) => r.known_good && !r.current);
  return html`<section aria-labelledby="act" class="act">
<h2 id="act" class="visually-hidden">Actions</h2>
<details class="confirm" id="deploy-now">
  <summary class="button">Deploy now</summary>
  <form method="post" action="${path(s.repo)}/deploy" class="stack">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="confirm" value="yes">
    <label for="deploy-ref">Ref <span class="muted small">(empty: the tracked branch)</span></label>
    <input id="deploy-ref" name="ref" maxlength="1024" autocomplete="off" spellcheck="false" placeholder="main">
    <label class="check"><input type="checkbox" name="force" value="yes"> Deploy even if the commit is live already</label>
    <p>This fetches ${s.repo} and deploys the ref's commit, like <code>autopull deploy ${s.repo}</code>.</p>
    <button type="submit">Yes, deploy ${s.repo}</button>
  </form>
</details>
<details class="confirm" id="roll-back">
  <summary class="button">Roll back</summary>
  ${good.length === 0
    ? html`<p class="notice">There is no earlier release that passed its health check to roll back to.</p>`
    : html`<form method="post" action="${path(s.repo)}/rollback" class="stack">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="confirm" value="yes">
    <label for="rollback-to">To</label>
    <select id="rollback-to" name="to">
      <option value="">the previous good release (${good[0]?.id})</option>
      ${good.map((r) => html`<option value="${r.id}">${r.id} (${r.sha.slice(0, 7)})</option>`)}
    </select>
    <p>The release goes live again through the health check, and the commit live now is marked bad, like <code>autopull rollback ${s.repo}</code>.</p>
    <button type="submit">Yes, roll back ${s.repo}</button>
  </form>`}
</details>
</section>`;
}

function facts(v: RepoView, at: Date): SafeHtml {
  const s = v.status;
  const live = v.releases.releases.find((r) => r.current);
  return html`<dl class="facts">
  <dt>Remote</dt><dd class="wrap"><code>${s.url}</code></dd>
  <dt>Live</dt><dd id="repo-live">${s.current ? html`${sha(s.current.sha)} <span class="wrap">${s.current.release}</span>${live ? html`, ${ago(live.created_at, at)}` : html``}` : html`<span class="muted">${s.deploy_path ? 'nothing deployed yet' : 'no deploy (mirror only)'}</span>`}</dd>
  ${s.deploy_path ? html`<dt>Path</dt><dd class="wrap"><code>${s.deploy_path}</code></dd>` : html``}
  <dt>Push to live</dt><dd id="push-to-live">${v.pushToLive ? html`${seconds(v.pushToLive.seconds)} <span class="muted small">(job <a href="/jobs/${v.pushToLive.job}">#${v.pushToLive.job}</a>)</span>` : html`<span class="muted">no pushed deploy yet</span>`}</dd>
  ${s.app ? html`<dt>App</dt><dd id="repo-app">${badge(s.app.state)}${s.app.pid ? html` <span class="muted small">pid ${s.app.pid}${s.app.port ? `, port ${s.app.port}` : ''}, ${s.app.restarts ?? 0} restart(s)</span>` : html``}</dd>` : html``}
  <dt>Now</dt><dd>${s.active.length === 0 ? html`<span class="muted">idle</span>` : s.active.map((j) => html`${badge(j.state)} <a href="/jobs/${j.id}">#${j.id}</a> ${j.kind} `)}</dd>
</dl>`;
}

export function repoPage(session: Session, v: RepoView, at: Date): SafeHtml {
  const s = v.status;
  const state = s.running ? 'running' : s.last ? s.last.state : 'idle';
  return page(
    { title: s.repo, session, live: 'refresh' },
    html`<section id="repo" data-repo="${s.repo}">
<h1>${s.repo} <span id="repo-state">${badge(state)}</span></h1>
${v.notice ? html`<p class="notice" role="status" id="repo-notice">${v.notice}</p>` : html``}
${facts(v, at)}
${actions(v, session.csrf)}
<p class="actions"><a href="${path(s.repo)}/simulate">Simulate a push</a> <a href="/deliveries?repo=${encodeURIComponent(s.repo)}">Deliveries</a></p>
<h2>Releases</h2>
${releasesTable(v.releases, at)}
<h2>Commits marked bad</h2>
${badTable(s.repo, v.releases, session.csrf, at)}
<h2>Recent jobs</h2>
${jobsTable(v.jobs, at)}
${v.mirrors || s.mirrors.length > 0 ? html`<h2>Mirror targets</h2>${mirrorsList(s, at)}` : html``}
</section>`,
  );
}
