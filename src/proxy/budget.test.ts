import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { ConnectionBudget } from './create-proxy.js';
import { rawExchange, testProxy } from '../../test/helpers/proxy.js';
import { waitUntil } from '../../test/helpers/app.js';

async function open(t: { after(fn: () => unknown): void }, port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

test('proxies sharing a budget (one per repo in the runtime) hold no more client connections together than it allows', async (t) => {
  const budget = new ConnectionBudget(2);
  const a = await testProxy(t, { budget });
  const b = await testProxy(t, { budget });
  const first = await open(t, a.port);
  await open(t, a.port);
  await waitUntil('both connections counted', () => budget.open === 2);
  // Repo b's proxy has none of its own open, but the runtime's budget is spent: closed at once.
  const refused = await open(t, b.port);
  await once(refused, 'close');
  assert.equal(budget.open, 2);
  first.destroy();
  await waitUntil('the closed connection given back', () => budget.open === 1);
  const answer = await rawExchange(b.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 503 /, 'b serves again (no target: 503) once the budget has room');
});
