import { html, type SafeHtml } from '../html.js';
import { page } from '../layout.js';

export function loginPage(o: { csrf: string; next: string; error?: string }): SafeHtml {
  return page(
    { title: 'Log in', session: null },
    html`<div class="login card">
<h1>Log in</h1>
<p>Use the <code>auth_token</code> from autopull's config (or the one in <code>local.token</code> in its data_dir).</p>
${o.error ? html`<p class="notice bad" role="alert" id="login-error">${o.error}</p>` : html``}
<form method="post" action="/login" class="stack">
  <input type="hidden" name="_csrf" value="${o.csrf}">
  <input type="hidden" name="next" value="${o.next}">
  <label for="token">Token</label>
  <input id="token" name="token" type="password" required autocomplete="current-password" autofocus>
  <button type="submit">Log in</button>
</form>
</div>`,
  );
}
