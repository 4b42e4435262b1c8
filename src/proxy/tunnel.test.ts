import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { Tunnel } from './tunnel.js';
import { closeFrame, GOING_AWAY } from './ws-frames.js';

/** One end of a connection made of two in-memory streams: the test writes what the end receives and reads what it sends. */
function end() {
  const incoming = new PassThrough();
  const outgoing = new PassThrough();
  const sent: Buffer[] = [];
  outgoing.on('data', (c: Buffer) => sent.push(c));
  const socket = Duplex.from({ readable: incoming, writable: outgoing });
  return { socket, incoming, sent: () => Buffer.concat(sent), finished: new Promise((r) => outgoing.once('finish', r)) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a drain in the middle of a frame lets the frame finish, then puts the close frame after it', async () => {
  const client = end();
  const app = end();
  const tunnel = new Tunnel(client.socket, app.socket, true);
  const frame = Buffer.concat([Buffer.from([0x81, 10]), Buffer.from('0123456789')]);
  app.incoming.write(frame.subarray(0, 6));
  await tick();
  void tunnel.close(60_000);
  await tick();
  assert.deepEqual(client.sent(), frame.subarray(0, 6), 'nothing is put inside the frame');
  app.incoming.write(Buffer.concat([frame.subarray(6), Buffer.from([0x81, 1, 0x41])]));
  await client.finished;
  assert.deepEqual(client.sent(), Buffer.concat([frame, closeFrame(GOING_AWAY, 'going away', false)]), 'the frame, the close frame, and nothing of the next frame');
  await app.finished;
  const toApp = app.sent();
  assert.equal(toApp[0], 0x88, 'the app gets a close frame');
  assert.equal(toApp[1], 0x80 | 12, 'masked, as frames from a client must be');
  const key = toApp.subarray(2, 6);
  const payload = Buffer.from(toApp.subarray(6).map((b, i) => b ^ (key[i % 4] as number)));
  assert.equal(payload.readUInt16BE(0), GOING_AWAY);
  assert.equal(payload.subarray(2).toString(), 'going away');
  client.socket.destroy();
  app.socket.destroy();
  await tunnel.closed;
});

test('a tunnel that is not a WebSocket is ended on both sides at once', async () => {
  const client = end();
  const app = end();
  const tunnel = new Tunnel(client.socket, app.socket, false);
  app.incoming.write('abc');
  await tick();
  void tunnel.close(60_000);
  await Promise.all([client.finished, app.finished]);
  assert.equal(client.sent().toString(), 'abc');
  assert.equal(app.sent().length, 0);
  client.socket.destroy();
  app.socket.destroy();
  await tunnel.closed;
});

test('a reset on one side destroys the other', async () => {
  const client = end();
  const app = end();
  const tunnel = new Tunnel(client.socket, app.socket, true);
  client.socket.destroy(new Error('ECONNRESET'));
  await tunnel.closed;
  assert.equal(app.socket.destroyed, true);
});
