// npm run bench:process (also run by npm run bench): how long stopping takes, on this machine.
//  1. Supervisor.stop of a supervised app that exits at once on SIGTERM, started as a user
//     writes it (`node server.mjs`, a simple command) and as a compound command
//     (`cd . && node server.mjs`, which stays under sh);
//  2. `autopull serve` from SIGTERM to its exit, idle, with and without a supervised app.
// Writes docs/BENCHMARKS-process.md. Bounded: 5 rounds of each stop, 3 of each serve.
import { cpus, release } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Supervisor } from '../src/deploy/supervisor.js';
import { APP, freePort, servesVersion } from '../test/helpers/app.js';
import { deliverPush } from '../test/helpers/github.js';
import { waitForJob } from '../test/helpers/api.js';
import { makeProject } from '../test/helpers/project.js';
import { tempDir } from '../test/helpers/tmp.js';

import { runBench, writeReport } from './report.js';
import { spawnServe } from './serve.js';

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
const NODE_APP = `${JSON.stringify(process.execPath)} ${JSON.stringify(APP)}`;

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `median ${(s[Math.floor(s.length / 2)] as number).toFixed(0)} ms, max ${(s[s.length - 1] as number).toFixed(0)} ms`;
}

/** Starts the fixture app under a Supervisor, waits until it serves, times `stop`. */
async function stopTimes(command: string, rounds: number): Promise<number[]> {
  const root = tempDir(t);
  const dir = join(root, 'release');
  mkdirSync(dir);
  writeFileSync(join(dir, 'version'), '1');
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const port = await freePort();
    const sup = new Supervisor({ repo: 'bench', command, port, dataDir: join(root, 'data'), minUptimeMs: 100, maxRestarts: 0 });
    cleanups.push(() => sup.stop(1000));
    sup.start(dir, process.env);
    await servesVersion(port, /version 1/);
    const t0 = performance.now();
    await sup.stop(10_000);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Runs `autopull serve` (with a deployed supervised app when `withApp`), idles, times SIGTERM to exit. */
async function serveExitTimes(withApp: boolean, rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const port = await freePort();
    const p = makeProject(t, withApp ? { deployYaml: `      start: ${JSON.stringify(NODE_APP)}\n      port: ${port}\n      probation: 0s\n      health: { url: /healthz, timeout: 10s, interval: 20ms }\n` } : {});
    const server = await spawnServe(p.configFile, cleanups);
    const url = server.url;
    if (withApp) {
      const sha = p.pushCommit({ version: '1' });
      const job = await waitForJob(url, p.token, (await deliverPush(url, p, sha)).job);
      if (job.state !== 'succeeded') throw new Error(`deploy ${job.state}: ${job.reason ?? ''}`);
    }
    const t0 = performance.now();
    await server.stop();
    times.push(performance.now() - t0);
  }
  return times;
}

async function main() {
  const simple = await stopTimes(NODE_APP, 5);
  const compound = await stopTimes(`cd . && ${NODE_APP}`, 5);
  const serveApp = await serveExitTimes(true, 3);
  const serveIdle = await serveExitTimes(false, 3);
  const cpu = cpus();
  writeReport('BENCHMARKS-process.md', [
    '# Process benchmark',
    '',
    'How long stopping takes. The fixture app (test/fixtures/app/server.mjs) exits at once on',
    `SIGTERM. Command: \`npm run bench:process\`. Machine: ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, Linux ${release()}, Node ${process.version}.`,
    '',
    '| measure | rounds | result |',
    '| --- | --- | --- |',
    `| stop a supervised app, \`start: node server.mjs\` (simple: exec'd) | ${simple.length} | ${summary(simple)} |`,
    `| stop a supervised app, \`start: cd . && node server.mjs\` (compound: under sh) | ${compound.length} | ${summary(compound)} |`,
    `| \`autopull serve\` idle with a supervised app: SIGTERM to exit | ${serveApp.length} | ${summary(serveApp)} |`,
    `| \`autopull serve\` idle, no app: SIGTERM to exit | ${serveIdle.length} | ${summary(serveIdle)} |`,
    '',
  ]);
}

await runBench(main, cleanups);
