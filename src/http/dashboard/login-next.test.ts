import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedApp } from '../../../test/helpers/served-app.js';
import { login } from '../../../test/helpers/dashboard-http.js';
import { safeNext } from './login-routes.js';

// ?next= after a login, on the real server: a browser drops tabs and newlines from a URL, so
// "/<TAB>/evil.example" is "//evil.example" to it, another site; a control character in a
// Location header made Node throw (500). Both go to / instead.
const TRICKS = ['/\t/evil.example', '/\n/evil.example', '/\r\n/evil.example', '/\t\\evil.example', '/\r\nset-cookie: x=1', '/\u0000x', '/ /evil.example', '/\u00a0/evil.example', '/é'];

test('safeNext refuses control characters, spaces and anything outside printable ASCII', () => {
  for (const bad of TRICKS) assert.equal(safeNext(bad), '/', JSON.stringify(bad));
  assert.equal(safeNext('/repos/blog?unmarked=abc&x=%20'), '/repos/blog?unmarked=abc&x=%20');
});

test('GET /login?next= with a tab or a newline: a session goes to /, never off the site, never a 500', async (t) => {
  const s = await servedApp(t, 'repos: {}\n');
  const { cookie } = await login(s);
  for (const next of TRICKS) {
    const res = await fetch(`${s.url}/login?next=${encodeURIComponent(next)}`, { headers: { cookie }, redirect: 'manual' });
    await res.arrayBuffer();
    assert.equal(res.status, 303, JSON.stringify(next));
    assert.equal(res.headers.get('location'), '/', JSON.stringify(next));
  }
  const once = await (await s.api('/api/login-link', { method: 'POST' })).json() as { path: string };
  const res = await fetch(`${s.url}${once.path}&next=${encodeURIComponent('/\t/evil.example')}`, { redirect: 'manual' });
  await res.arrayBuffer();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/');
});
