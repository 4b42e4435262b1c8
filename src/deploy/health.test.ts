import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { healthUrl, probe, waitHealthy, watchHealthy } from './health.js';

async function backend(t: { after(fn: () => unknown): void }, handler: (n: number) => number): Promise<string> {
  let n = 0;
  const server: Server = createServer((_req, res) => res.writeHead(handler(++n)).end('x'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/healthz`;
}

test('health URLs: relative to the app port, absolute as given', () => {
  assert.equal(healthUrl('/healthz', 3000), 'http://127.0.0.1:3000/healthz');
  assert.equal(healthUrl('https://blog.example/up', undefined), 'https://blog.example/up');
  assert.equal(healthUrl('/healthz', undefined), null);
});

test('probe: 2xx is healthy; other codes and refused connections say why', async (t) => {
  const ok = await backend(t, () => 204);
  assert.deepEqual(await probe(ok, 1000), { ok: true, status: 204 });
  const bad = await backend(t, () => 503);
  assert.deepEqual(await probe(bad, 1000), { ok: false, problem: `GET ${bad} answered 503` });
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  const refused = await probe(`http://127.0.0.1:${port}/healthz`, 1000);
  assert.match(refused.ok ? '' : refused.problem, /ECONNREFUSED/);
});

test('waitHealthy waits through failures until the first 2xx; gives up at the timeout', async (t) => {
  const url = await backend(t, (n) => (n < 3 ? 503 : 200));
  await waitHealthy({ url, timeoutMs: 5000, intervalMs: 10 }, new AbortController().signal);
  const never = await backend(t, () => 500);
  await assert.rejects(waitHealthy({ url: never, timeoutMs: 200, intervalMs: 20 }, new AbortController().signal), /not healthy within .*answered 500/);
});

test('watchHealthy fails at the first miss in the window', async (t) => {
  const url = await backend(t, (n) => (n === 4 ? 500 : 200));
  await assert.rejects(watchHealthy({ url, timeoutMs: 1000, intervalMs: 5 }, 5000, new AbortController().signal), /probation: GET .* answered 500/);
  const steady = await backend(t, () => 200);
  // How many probes fit the window depends on the machine's load (CI's 2 cores): at least one ran, and all passed.
  assert.ok((await watchHealthy({ url: steady, timeoutMs: 1000, intervalMs: 10 }, 100, new AbortController().signal)) >= 1);
});
