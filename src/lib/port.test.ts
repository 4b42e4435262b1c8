import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { portHolder, portListeners, portTaken } from './port.js';

function listen(host: string): Promise<{ server: Server; port: number } | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null)); // no IPv6 here
    server.listen(0, host, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test('a port is taken when anything listens on it, on 127.0.0.1 or ::1; the listener is named', async (t) => {
  for (const host of ['127.0.0.1', '::1']) {
    const l = await listen(host);
    if (!l) continue;
    t.after(() => l.server.close());
    assert.equal(await portTaken(l.port), true, host);
    assert.deepEqual(portListeners(l.port).map((x) => x.pid), [process.pid], host);
    assert.equal(portHolder(l.port), `autopull itself (pid ${process.pid})`);
    await new Promise((r) => l.server.close(r));
    assert.equal(await portTaken(l.port), false, `${host}: free once closed`);
    assert.deepEqual(portListeners(l.port), []);
    assert.equal(portHolder(l.port), null);
  }
});
