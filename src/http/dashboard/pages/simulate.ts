import type { RepoConfig } from '../../../config/load.js';
import { SIMULATED_SENDERS } from '../../../webhooks/simulate.js';
import { html, type SafeHtml } from '../html.js';
import { page } from '../layout.js';
import type { Session } from '../sessions.js';

const TITLES: Record<string, string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  gitea: 'Gitea',
  forgejo: 'Forgejo',
  gogs: 'Gogs',
  bitbucket: 'Bitbucket Cloud',
  'bitbucket-server': 'Bitbucket Data Center',
  generic: 'Generic (Standard Webhooks)',
};

/** The ref a simulated push suggests: the first tracked branch without a glob, else main. */
export function defaultRef(repo: RepoConfig): string {
  const plain = repo.branches.find((b) => !/[*?[]/.test(b));
  return `refs/heads/${plain ?? 'main'}`;
}

export function simulatePage(session: Session, repo: RepoConfig, o: { sender?: string; ref?: string; error?: string } = {}): SafeHtml {
  const chosen = o.sender ?? (repo.providers?.[0] && SIMULATED_SENDERS.find((s) => s === repo.providers?.[0])) ?? 'github';
  return page(
    { title: `Simulate a push to ${repo.name}`, session },
    html`<h1>Simulate a push to ${repo.name}</h1>
<p>autopull makes the delivery the chosen sender would send for a push of the ref, signs it with
this repo's secret, and puts it through the same pipeline as a real one: it shows in the
deliveries, and a tracked ref queues a job, which you then watch live.</p>
${repo.secret === null ? html`<p class="notice bad" role="alert">This repo has no secret (insecure: true): there is nothing to sign a simulated delivery with.</p>` : html``}
${o.error ? html`<p id="simulate-error" class="notice bad" role="alert">${o.error}</p>` : html`<p id="simulate-error" class="notice bad" role="alert" tabindex="-1" hidden></p>`}
<form method="post" action="/repos/${encodeURIComponent(repo.name)}/simulate" class="stack" data-simulate="${repo.name}">
  <input type="hidden" name="_csrf" value="${session.csrf}">
  <label for="sender">Sender</label>
  <select id="sender" name="sender">
    ${SIMULATED_SENDERS.map((s) => html`<option value="${s}"${s === chosen ? html` selected` : html``}>${TITLES[s] ?? s}</option>`)}
  </select>
  <label for="ref">Ref</label>
  <input id="ref" name="ref" value="${o.ref ?? defaultRef(repo)}" required maxlength="1024" autocomplete="off" spellcheck="false">
  <p class="muted small">Tracked here: branches ${repo.branches.join(', ') || 'none'}${repo.tags.length > 0 ? `; tags ${repo.tags.join(', ')}` : ''}.</p>
  <button type="submit">Send the simulated push</button>
</form>`,
  );
}
