import type { Delivery } from '../../../store/store.js';
import { SIMULATED_HEADER } from '../../../webhooks/simulate.js';
import { html, type SafeHtml } from '../html.js';
import { ago, codeBadge } from '../format.js';
import { page } from '../layout.js';
import type { Session } from '../sessions.js';
import { redeliverProblem } from '../../redeliver.js';

/** Body bytes shown on a delivery's page; the API has the whole body. */
const BODY_SHOWN = 256 * 1024;

function simulated(d: Pick<Delivery, 'headers'>): SafeHtml {
  return d.headers[SIMULATED_HEADER] ? html` <span class="badge b-idle" title="${d.headers[SIMULATED_HEADER]}">simulated</span>` : html``;
}

/** The row's Redeliver button (its confirmation is a page: a table cell has no room for one). */
function redeliverButton(d: Delivery, csrf: string): SafeHtml {
  if (redeliverProblem(d) !== null) return html``;
  return html`<form method="post" action="/deliveries/${d.id}/redeliver" class="inline-form">
    <input type="hidden" name="_csrf" value="${csrf}">
    <button type="submit" class="small-button" aria-label="Redeliver delivery ${d.id}">Redeliver</button>
  </form>`;
}

function jobs(ids: number[]): SafeHtml {
  return ids.length === 0 ? html`<span class="muted">none</span>` : html`${ids.map((j) => html`<a href="/jobs/${j}">#${j}</a> `)}`;
}

export function deliveriesPage(session: Session, list: Delivery[], repos: string[], repo: string | undefined, at: Date): SafeHtml {
  return page(
    { title: 'Deliveries', session, nav: 'deliveries', live: 'refresh' },
    html`<h1>Deliveries</h1>
<form method="get" action="/deliveries" class="inline">
  <label for="repo-filter">Repo</label>
  <select id="repo-filter" name="repo">
    <option value="">all</option>
    ${repos.map((r) => html`<option value="${r}"${r === repo ? html` selected` : html``}>${r}</option>`)}
  </select>
  <button type="submit">Show</button>
</form>
${list.length === 0
  ? html`<p class="muted">No deliveries${repo ? html` for ${repo}` : html``} yet.</p>`
  : html`<div class="scroll"><table class="deliveries">
<thead><tr><th scope="col">#</th><th scope="col" class="wide-only">When</th><th scope="col">Repo</th><th scope="col">Sender</th><th scope="col">Answer</th><th scope="col">Why</th><th scope="col">Jobs</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${list.map(
      (d) => html`<tr data-delivery="${d.id}">
  <td><a href="/deliveries/${d.id}">#${d.id}</a></td>
  <td class="wide-only">${ago(d.received_at, at)}</td>
  <td>${d.repo ?? html`<span class="muted">?</span>`}</td>
  <td>${d.provider ?? html`<span class="muted">unknown</span>`} <span class="muted">${d.event ?? ''}</span>${simulated(d)}</td>
  <td>${codeBadge(d.status_code)} ${d.outcome}</td>
  <td class="wrap why">${d.message.slice(0, 300)}</td>
  <td>${jobs(d.jobs)}</td>
  <td>${redeliverButton(d, session.csrf)}</td>
</tr>`,
    )}</tbody>
</table></div>`}`,
  );
}

function bodyText(d: Delivery): string {
  const text = d.body.subarray(0, BODY_SHOWN).toString('utf8');
  if (d.body.length <= BODY_SHOWN) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // form-encoded or not JSON: shown as sent
    }
  }
  return text;
}

/** Redeliver, confirmed in place (a <details>: no script needed); or why it cannot be. */
function redeliverDetails(d: Delivery, csrf: string): SafeHtml {
  const problem = redeliverProblem(d);
  if (problem !== null) return html`<p class="muted small">Cannot be redelivered: ${problem}.</p>`;
  return html`<details class="confirm" id="redeliver">
  <summary class="button">Redeliver</summary>
  <form method="post" action="/deliveries/${d.id}/redeliver" class="stack">
    <input type="hidden" name="_csrf" value="${csrf}">
    <input type="hidden" name="confirm" value="yes">
    <p>The stored request goes through the pipeline again as if it had just come (only the duplicate check is skipped); a tracked ref queues a job.</p>
    <button type="submit">Yes, redeliver</button>
  </form>
</details>`;
}

export function deliveryPage(session: Session, d: Delivery, at: Date): SafeHtml {
  return page(
    { title: `Delivery ${d.id}`, session, nav: 'deliveries' },
    html`<h1>Delivery #${d.id}${simulated(d)}</h1>
<section aria-labelledby="answer">
<h2 id="answer">Our answer</h2>
<p>${codeBadge(d.status_code)} <strong>${d.outcome}</strong></p>
<p class="why wrap"><span class="label">Why:</span> ${d.message}</p>
<dl class="facts">
  <dt>Jobs</dt><dd>${jobs(d.jobs)}</dd>
  <dt>Received</dt><dd>${ago(d.received_at, at)} from <code>${d.remote_addr}</code></dd>
  <dt>Repo</dt><dd>${d.repo ?? html`<span class="muted">none matched</span>`}</dd>
  <dt>Sender</dt><dd>${d.provider ?? html`<span class="muted">not recognised</span>`}</dd>
  <dt>Event</dt><dd>${d.event ?? ''}</dd>
  <dt>Delivery id</dt><dd class="wrap"><code>${d.delivery_id}</code></dd>
  ${d.redelivery_of !== null ? html`<dt>Redelivery of</dt><dd><a href="/deliveries/${d.redelivery_of}">#${d.redelivery_of}</a></dd>` : html``}
</dl>
${redeliverDetails(d, session.csrf)}
</section>
<section aria-labelledby="headers">
<h2 id="headers">Request headers</h2>
<div class="scroll"><table class="headers"><tbody>
${Object.entries(d.headers).map(([k, v]) => html`<tr><th scope="row">${k}</th><td class="wrap"><code>${v}</code></td></tr>`)}
</tbody></table></div>
<p class="muted small">Signatures and tokens are not stored; they show as [redacted].</p>
</section>
<section aria-labelledby="body">
<h2 id="body">Body <span class="muted small">(${d.body.length} bytes${d.body_truncated ? ', cut when stored' : ''}${d.body.length > BODY_SHOWN ? `, first ${BODY_SHOWN / 1024} KiB shown` : ''})</span></h2>
<pre class="body" tabindex="0">${bodyText(d)}</pre>
</section>`,
  );
}
