// node --import tsx bench/hook-path.ts [N]: the CPU time of the hook path in-process (app.inject,
// no sockets), per delivery, for (a) a signed push to an untracked ref, (b) a bad signature,
// (c) an unknown repo; the whole server's app (startServer's deps: store, metrics, events), log
// at info to /dev/null. For profiling: node --cpu-prof --import tsx bench/hook-path.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/http/app.js';
import { loadConfig } from '../src/config/load.js';
import { Store } from '../src/store/store.js';
import { Metrics } from '../src/metrics/metrics.js';
import { Retention } from '../src/store/retention.js';
import { openLog } from '../src/lib/log.js';
import { githubDelivery, githubPush, signGithub } from '../test/helpers/github.js';

const N = Number(process.argv[2] ?? 5000);
const dir = mkdtempSync(join(tmpdir(), 'autopull-hook-path-'));
try {
  writeFileSync(join(dir, 'autopull.yml'), `data_dir: ./data\nlimits: { rate: off }\nrepos:\n  site: { url: ./remote.git, secret: s3cret, deploy: { path: ./srv } }\n`);
  const config = loadConfig(join(dir, 'autopull.yml'));
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const logger = openLog({ level: 'info', file: '/dev/null' }).logger;
  const metrics = new Metrics(config, store, logger);
  const retention = new Retention(store, config.retention, logger);
  retention.start();
  const app = await buildApp({ config, store, logger, kick: () => {}, apiTokens: [], metrics });
  const d = githubDelivery('push', githubPush({ ref: 'refs/heads/untracked', after: 'a'.repeat(40), cloneUrl: 'x' }), 's3cret');
  const cases: [string, string, Record<string, string>][] = [
    ['(a) untracked ref', '/hooks/site', d.headers],
    ['(b) bad signature', '/hooks/site', { ...d.headers, 'x-hub-signature-256': signGithub(d.body, 'wrong') }],
    ['(c) unknown repo', '/hooks/nope', d.headers],
  ];
  let id = 0;
  for (const [name, url, headers] of cases) {
    let status = 0;
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) status = (await app.inject({ method: 'POST', url, headers: { ...headers, 'x-github-delivery': `d-${++id}` }, payload: d.body })).statusCode;
    };
    await run(500);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run(N);
    const c = process.cpuUsage(c0);
    console.log(`${name}: ${status}, ${((c.user + c.system) / N).toFixed(0)} µs CPU per delivery (${((performance.now() - t0) * 1000 / N).toFixed(0)} µs wall)`);
  }
  await retention.stop();
  await app.close();
  metrics.close();
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
