import { html, type SafeHtml } from '../html.js';
import { page } from '../layout.js';
import type { Session } from '../sessions.js';

export interface ConfirmOptions {
  title: string;
  /** What will happen, in a sentence. */
  what: string;
  action: string;
  /** The form's fields, posted again with confirm=yes. */
  fields: Record<string, string>;
  button: string;
  back: string;
}

/**
 * The confirmation step of a change posted without it (a form sent without its confirm
 * field, say from a page whose <details> the browser does not support): the same fields
 * again, with a button that confirms. No script needed.
 */
export function confirmPage(session: Session, o: ConfirmOptions): SafeHtml {
  return page(
    { title: o.title, session },
    html`<div class="card confirm-page">
<h1>${o.title}</h1>
<p>${o.what}</p>
<form method="post" action="${o.action}" class="stack">
  <input type="hidden" name="_csrf" value="${session.csrf}">
  ${Object.entries(o.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
  <input type="hidden" name="confirm" value="yes">
  <button type="submit">${o.button}</button>
</form>
<p><a href="${o.back}">Cancel</a></p>
</div>`,
  );
}
