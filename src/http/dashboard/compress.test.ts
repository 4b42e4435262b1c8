import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { gunzipSync } from 'node:zlib';
import { servedApp, TOKEN } from '../../../test/helpers/served-app.js';
import { login } from '../../../test/helpers/dashboard-http.js';

const repos = Array.from({ length: 30 }, (_, i) => `  site-${i}: { url: 'https://github.com/acme/site-${i}.git', secret: compress-secret-${i}, deploy: { path: ./srv-${i} } }`).join('\n');

test('dashboard pages are sent compressed to a browser that accepts it; the API and /healthz are not', async (t) => {
  const s = await servedApp(t, `repos:\n${repos}\n`);
  const { cookie } = await login(s);
  const page = await request(`${s.url}/`, { headers: { cookie, 'accept-encoding': 'gzip' } });
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers['content-encoding'], 'gzip');
  const html = gunzipSync(Buffer.from(await page.body.arrayBuffer())).toString('utf8');
  assert.match(html, /site-29/);
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);

  const plain = await request(`${s.url}/`, { headers: { cookie } });
  assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding, no encoding');
  assert.match(await plain.body.text(), /site-29/);

  const api = await request(`${s.url}/api/jobs`, { headers: { authorization: `Bearer ${TOKEN}`, 'accept-encoding': 'gzip' } });
  assert.equal(api.statusCode, 200);
  assert.equal(api.headers['content-encoding'], undefined);
  await api.body.dump();
  const health = await request(`${s.url}/healthz`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(health.headers['content-encoding'], undefined);
  await health.body.dump();
});
