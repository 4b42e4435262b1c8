import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedApp } from '../../../test/helpers/served-app.js';
import { login, postForm } from '../../../test/helpers/dashboard-http.js';

// Dashboard pages are compressed, and the deliveries page shows what an unauthenticated
// sender wrote (a made-up repo name in its message) and reloads itself on every delivery.
// A constant CSRF token beside it lets whoever sees the compressed sizes guess it a
// character at a time (BREACH). Each time the token is written, it is masked anew.

const YAML = `repos:
  site: { url: 'https://github.com/acme/site.git', secret: s3cret-s3cret, deploy: { path: ./srv } }
`;

function tokens(html: string): string[] {
  return [...html.matchAll(/(?:name="_csrf" value|name="csrf-token" content)="([^"]+)"/g)].map((m) => m[1] as string);
}

test('the CSRF token differs each time a page writes it, and every one of them is accepted', async (t) => {
  const s = await servedApp(t, YAML);
  const { cookie } = await login(s);
  const page = async (path: string) => tokens(await (await fetch(`${s.url}${path}`, { headers: { cookie } })).text());
  const seen = [...(await page('/repos/site')), ...(await page('/repos/site')), ...(await page('/'))];
  assert.ok(seen.length >= 4, `tokens found: ${seen.length}`);
  assert.equal(new Set(seen).size, seen.length, 'no two alike');
  for (const token of [seen[0], seen.at(-1)] as string[]) {
    const ask = await postForm(s, cookie, '/repos/site/deploy', { _csrf: token });
    assert.equal(ask.status, 200, 'the confirmation page');
    await ask.arrayBuffer();
  }
  const header = await fetch(`${s.url}/api/login-link`, { method: 'POST', headers: { cookie, 'x-csrf-token': seen[1] as string } });
  assert.equal(header.status, 201, 'in the X-CSRF-Token header too');
  await header.arrayBuffer();

  // Another session's token, a token cut short, or garbage: 403.
  const other = await login(s);
  const theirs = tokens(await (await fetch(`${s.url}/`, { headers: { cookie: other.cookie } })).text())[0] as string;
  for (const bad of [theirs, (seen[0] as string).slice(0, -1), 'x', '%%%', 'A'.repeat(86)]) {
    const res = await postForm(s, cookie, '/repos/site/deploy', { _csrf: bad });
    assert.equal(res.status, 403, bad);
    await res.arrayBuffer();
  }
});
