import { isFinal, type Job, type LogLine } from '../../../store/store.js';
import { html, type SafeHtml } from '../html.js';
import { ago, badge, between, sha } from '../format.js';
import { page } from '../layout.js';
import type { Session } from '../sessions.js';
import { stepsOf } from '../steps.js';

/** Lines rendered into the page; dashboard.js streams the rest (from the last one shown). */
export const PAGE_LINES = 2000;

export function logLine(l: Pick<LogLine, 'seq' | 'ts' | 'stream' | 'line'>): SafeHtml {
  return html`<span class="ln s-${l.stream}" data-seq="${l.seq}"><span class="ts" aria-hidden="true">${l.ts.slice(11, 19)} </span>${l.line}
</span>`;
}

function facts(job: Job, at: Date): SafeHtml {
  return html`<dl class="facts">
  <dt>Repo</dt><dd>${job.repo}</dd>
  <dt>Kind</dt><dd>${job.kind} <span class="muted">(${job.trigger}${job.force ? ', forced' : ''})</span></dd>
  <dt>Ref</dt><dd class="wrap">${job.ref ?? html`<span class="muted">default</span>`}</dd>
  <dt>Commit</dt><dd id="job-sha">${sha(job.target_sha)}</dd>
  <dt>Release</dt><dd id="job-release" class="wrap">${job.release ?? html`<span class="muted">none</span>`}</dd>
  <dt>Queued</dt><dd>${ago(job.created_at, at)}</dd>
  <dt>Took</dt><dd id="job-took">${between(job.started_at, job.finished_at) || html`<span class="muted">${job.started_at ? 'running' : 'not started'}</span>`}</dd>
  ${job.deliveries.length > 0 ? html`<dt>Deliveries</dt><dd>${job.deliveries.map((d) => html`<a href="/deliveries/${d}">#${d}</a> `)}</dd>` : html``}
</dl>`;
}

export function jobPage(session: Session, job: Job, lines: LogLine[], at: Date): SafeHtml {
  const final = isFinal(job.state);
  const shown = lines.slice(0, PAGE_LINES);
  const last = shown.at(-1)?.seq ?? 0;
  const steps = stepsOf(shown, final && lines.length <= PAGE_LINES);
  return page(
    { title: `Job ${job.id}`, session },
    html`<section id="job" data-job="${job.id}" data-after="${last}" data-state="${job.state}">
<h1>Job #${job.id} <span id="job-state">${badge(job.state)}</span></h1>
<p id="job-reason" class="reason wrap${job.state === 'failed' ? ' bad' : ''}">${job.reason ?? ''}${job.failure ? html` <code>${job.failure}</code>` : html``}</p>
${facts(job, at)}
<h2>Steps</h2>
<ol id="steps" class="steps">${steps.map((s) => html`<li data-step="${s.name}" data-state="${s.state}">${badge(s.state === 'done' ? 'succeeded' : s.state)} ${s.name}${s.took ? html` <span class="muted">${s.took}</span>` : html``}</li>`)}</ol>
${steps.length === 0 ? html`<p id="no-steps" class="muted">No steps yet.</p>` : html``}
<h2 id="log-title">Log</h2>
<p class="muted small">${final ? 'The job has ended.' : html`Follows live while this page is open <span id="log-status"></span>.`}${lines.length > PAGE_LINES ? html` Showing the first ${PAGE_LINES} lines here; the rest loads below.` : html``}</p>
<pre id="log" class="log" tabindex="0" aria-labelledby="log-title" aria-live="off">${shown.map(logLine)}</pre>
</section>`,
  );
}
