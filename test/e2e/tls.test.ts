import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject } from '../helpers/project.js';
import { runCli, serve } from '../helpers/cli.js';
import { httpsGet, makeCertificate } from '../helpers/tls.js';

const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

test('tls: serves HTTPS; a reload takes a renewed certificate without a restart and refuses a key that does not match it', async (t) => {
  const p = makeProject(t);
  const first = makeCertificate(p.dir, 'first');
  const second = makeCertificate(p.dir, 'second');
  const live = { cert: join(p.dir, 'live.crt'), key: join(p.dir, 'live.key') };
  copyFileSync(first.cert, live.cert);
  copyFileSync(first.key, live.key);
  writeFileSync(p.configFile, `tls: { cert: ./live.crt, key: ./live.key }\n${readFileSync(p.configFile, 'utf8')}`);
  const server = await serve(p.configFile, t);
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const before = await httpsGet(`${server.url}/healthz`, readFileSync(first.cert));
  assert.deepEqual(before, { status: 200, fingerprint256: fingerprint(first.cert) });

  // The CLI reaches the HTTPS server (the certificate in tls.cert is pinned), and the job runs there.
  p.pushCommit({ v: '1' });
  const deployed = await runCli(['deploy', 'site', '-c', p.configFile]);
  assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
  await server.waitFor(/"job":1,"repo":"site"/);

  // A renewal: both files replaced, then SIGHUP (certbot's deploy hook does this).
  copyFileSync(second.cert, live.cert);
  copyFileSync(second.key, live.key);
  server.proc.kill('SIGHUP');
  await server.waitFor(/config reloaded \(SIGHUP\)/);
  const renewed = await httpsGet(`${server.url}/healthz`, readFileSync(second.cert));
  assert.deepEqual(renewed, { status: 200, fingerprint256: fingerprint(second.cert) });

  // A half-done renewal: the first key with the second certificate.
  copyFileSync(first.key, live.key);
  server.proc.kill('SIGHUP');
  await server.waitFor(/config reload \(SIGHUP\) refused: 1 problem/);
  assert.match(server.output(), /tls\.key: .*live\.key is not the key of the certificate in .*live\.crt/);
  const kept = await httpsGet(`${server.url}/healthz`, readFileSync(second.cert));
  assert.equal(kept.fingerprint256, fingerprint(second.cert), 'the certificate in use is kept');
  assert.equal(await server.stop(), 0);
});

test('tls: a certificate or key that cannot be read is a config problem naming the file', async (t) => {
  const p = makeProject(t);
  writeFileSync(p.configFile, `tls: { cert: ./missing.crt, key: ./missing.key }\n${readFileSync(p.configFile, 'utf8')}`);
  const res = await runCli(['serve', '-c', p.configFile]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /tls\.cert: cannot read .*missing\.crt: ENOENT/);
  assert.match(res.stderr, /tls\.key: cannot read .*missing\.key: ENOENT/);
});
