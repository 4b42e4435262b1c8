import { assetUrl } from './assets.js';
import { html, type SafeHtml } from './html.js';
import type { Session } from './sessions.js';

export interface PageOptions {
  title: string;
  /** Null on the login page. */
  session: Session | null;
  /** Which nav entry is the current page. */
  nav?: 'overview' | 'deliveries';
  /** Live behaviour of the page for dashboard.js: `refresh` reloads <main> on events. */
  live?: 'refresh';
}

/**
 * The page around every dashboard view. No inline script or style anywhere (the
 * Content-Security-Policy forbids them): behaviour comes from dashboard.js, which reads the
 * data- attributes, and the CSRF token for its API calls from <meta name="csrf-token">.
 */
export function page(o: PageOptions, body: SafeHtml): SafeHtml {
  const current = (n: PageOptions['nav']) => (o.nav === n ? html` aria-current="page"` : html``);
  const nav = o.session
    ? html`<nav aria-label="Main">
        <a class="brand" href="/">autopull</a>
        <a href="/"${current('overview')}>Overview</a>
        <a href="/deliveries"${current('deliveries')}>Deliveries</a>
        <form method="post" action="/logout" class="logout">
          <input type="hidden" name="_csrf" value="${o.session.csrf}">
          <button type="submit" class="link">Log out</button>
        </form>
        <span id="live-status" class="live" role="status" aria-live="polite"></span>
      </nav>`
    : html`<nav aria-label="Main"><span class="brand">autopull</span></nav>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
${o.session ? html`<meta name="csrf-token" content="${o.session.csrf}">` : html``}
<title>${o.title} · autopull</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('dashboard.css')}">
<script src="${assetUrl('dashboard.js')}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">${nav}</header>
<main id="main" tabindex="-1"${o.live ? html` data-live="${o.live}"` : html``}>
${body}
</main>
</body>
</html>
`;
}

/** A page that says what went wrong (not found, refused, ...), in the dashboard's frame. */
export function errorPage(session: Session | null, status: number, message: string): SafeHtml {
  return page(
    { title: `${status}`, session },
    html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Refused' : status === 429 ? 'Too many tries' : 'Error'}</h1>
<p class="notice bad" role="alert">${message}</p>
<p><a href="/">Back to the overview</a></p>`,
  );
}
