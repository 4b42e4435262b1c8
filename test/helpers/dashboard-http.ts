import { TOKEN, type ServedApp } from './served-app.js';

/** The dashboard through fetch (no browser): its login, its forms, the CSRF token of a page. */

export function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

export function setCookies(res: Response): string[] {
  return res.headers.getSetCookie();
}

export function cookieValue(res: Response, name: string): string | undefined {
  for (const c of setCookies(res)) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
}

/** GET /login for its CSRF cookie and field, then POST the token; returns the answer and the cookie header to send. */
export async function login(s: Pick<ServedApp, 'url'>, token: string = TOKEN, headers: Record<string, string> = {}): Promise<{ res: Response; cookie: string }> {
  const page = await fetch(`${s.url}/login`, { headers });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const loginCookie = `autopull_login=${cookieValue(page, 'autopull_login')}`;
  const init = form({ _csrf: csrf, token, next: '/' });
  const res = await fetch(`${s.url}/login`, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers, cookie: loginCookie } });
  const session = cookieValue(res, 'autopull_session');
  return { res, cookie: session ? `autopull_session=${session}` : '' };
}

export async function pageCsrf(s: Pick<ServedApp, 'url'>, cookie: string, path = '/'): Promise<string> {
  const html = await (await fetch(`${s.url}${path}`, { headers: { cookie } })).text();
  return /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1] ?? '';
}

/** Posts a form with the session's cookie (add `_csrf` to the fields yourself). */
export function postForm(s: Pick<ServedApp, 'url'>, cookie: string, path: string, fields: Record<string, string>): Promise<Response> {
  const init = form(fields);
  return fetch(`${s.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
}
