import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, readlinkSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, type Project } from '../helpers/project.js';
import { serve, spawnCli, type Served, type Spawned } from '../helpers/cli.js';
import { deliverPush } from '../helpers/github.js';
import { api, waitForJob, type ApiJob } from '../helpers/api.js';

/**
 * A repo's job owned by another live process: `autopull deploy` run in-process by the CLI
 * (no server was running when it started), whose build blocks on a FIFO until the test
 * writes to it. A server is then started on the same data_dir.
 */
interface ForeignDeploy {
  p: Project;
  env: NodeJS.ProcessEnv;
  cli: Spawned;
  /** Lets the blocked build go on (blocks until the build reads the FIFO). */
  release(): void;
  /** Starts a server on the project, stopped before the temp dir is removed. */
  serve(): Promise<Served>;
}

async function cliDeployMidBuild(t: { after(fn: () => unknown): void }): Promise<ForeignDeploy> {
  let fifo: string | null = null;
  const procs: ChildProcess[] = [];
  // Registered first, so it runs first (after-hooks run in the order they were added): a
  // build still blocked is let go and every process stopped before the temp dir goes.
  t.after(async () => {
    if (fifo) releaseIfWaiting(fifo);
    await Promise.all(procs.map((proc) => stopProcess(proc)));
  });
  // Commits with a non-empty `gate` file block their build; `timeout` bounds the wait even
  // if the test dies without writing to the FIFO.
  const p = makeProject(t, { build: ['if [ -s gate ]; then echo waiting; timeout 60 cat "$AUTOPULL_TEST_FIFO" > /dev/null; fi', 'echo complete > built.txt'] });
  fifo = join(p.dir, 'gate.fifo');
  execFileSync('mkfifo', [fifo]);
  const env = { AUTOPULL_TEST_FIFO: fifo };
  p.pushCommit({ v: '1', gate: 'yes' });
  const cli = spawnCli(['deploy', 'site', '-c', p.configFile], t, env);
  procs.push(cli.proc);
  await cli.waitFor(/no server running/);
  await cli.waitFor(/\| waiting$/m);
  const path = fifo;
  return {
    p,
    env,
    cli,
    release: () => writeFileSync(path, 'go\n'),
    serve: async () => {
      const server = await serve(p.configFile, t, env);
      procs.push(server.proc);
      return server;
    },
  };
}

/** SIGTERM (a server then stops its jobs' process groups), SIGKILL when it has not exited after 5 s. */
async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Writes to the FIFO only when a reader is blocked on it (O_NONBLOCK: ENXIO otherwise). */
function releaseIfWaiting(fifo: string): void {
  try {
    const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, 'go\n');
    closeSync(fd);
  } catch {
    // nobody waits on it
  }
}

/** GET /healthz must answer within `ms` (a server whose event loop is stuck does not). */
async function healthy(url: string, ms = 2000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(ms) });
    return res.ok;
  } catch {
    return false;
  }
}

interface Job extends ApiJob {
  started_at: string | null;
  finished_at: string | null;
  owner_pid: number | null;
}

test('a server started while an in-process CLI deploy builds leaves that release alone; the CLI deploy goes live', async (t) => {
  const f = await cliDeployMidBuild(t);
  const releases = join(f.p.deployPath, 'releases');
  const server = await f.serve();
  // Start-up recovery has run (the server listens only after it): the building release is still there.
  const { jobs } = await api<{ jobs: Job[] }>(server.url, f.p.token, '/api/jobs');
  const building = jobs.find((j) => j.id === 1);
  assert.equal(building?.state, 'running', 'the CLI still runs its job: not interrupted by the server');
  assert.equal(building?.owner_pid, f.cli.proc.pid);
  assert.ok(building?.release, 'the job has its release');
  assert.ok(existsSync(join(releases, building.release)), 'the server did not remove the release the CLI is building');

  f.release();
  const code = await f.cli.exited;
  assert.equal(code, 0, f.cli.output());
  assert.match(f.cli.output(), /#1 succeeded/);
  assert.equal(readlinkSync(join(f.p.deployPath, 'current')), `releases/${building.release}`);
  assert.equal(readFileSync(join(f.p.deployPath, 'current', 'built.txt'), 'utf8'), 'complete\n');
  assert.equal((await waitForJob(server.url, f.p.token, 1)).state, 'succeeded');
  assert.ok(await healthy(server.url));
});

test('a job queued while another process runs the repo waits without blocking the server: /healthz answers, SIGTERM stops it at once, the job runs after', async (t) => {
  const f = await cliDeployMidBuild(t);
  const first = await f.serve();
  const v2 = f.p.pushCommit({ v: '2', gate: '' });
  const queued = await deliverPush(first.url, f.p, v2);
  assert.equal(queued.status, 202);
  // The job is queued behind the CLI's (its worker's loop began before the 202 was sent).
  for (let i = 0; i < 5; i++) assert.ok(await healthy(first.url), `/healthz answer ${i + 1}`);
  await first.waitFor(/waits for job 1 \(pid \d+\)/);
  assert.ok(await healthy(first.url));

  const stopping = Date.now();
  assert.equal(await first.stop(), 0, first.output());
  const stopMs = Date.now() - stopping;
  assert.ok(stopMs < 3000, `SIGTERM took ${stopMs} ms to stop a server that only waits`);

  // A second server takes over the queued job and runs it once the CLI's job has ended.
  const second = await f.serve();
  await second.waitFor(/waits for job 1 \(pid \d+\)/);
  assert.ok(await healthy(second.url));
  f.release();
  assert.equal(await f.cli.exited, 0, f.cli.output());
  const job = (await waitForJob(second.url, f.p.token, queued.job)) as Job;
  assert.equal(job.state, 'succeeded', job.reason ?? '');
  assert.equal(job.target_sha, v2);
  assert.equal(job.owner_pid, second.proc.pid, 'the server ran the queued job, not the CLI');
  const cliJob = (await waitForJob(second.url, f.p.token, 1)) as Job;
  assert.equal(cliJob.state, 'succeeded', cliJob.reason ?? '');
  assert.ok((job.started_at ?? '') >= (cliJob.finished_at ?? '~'), 'the queued job started after the CLI job ended');
  assert.equal(readFileSync(join(f.p.deployPath, 'current', 'v'), 'utf8'), '2');
  assert.ok(existsSync(join(f.p.deployPath, 'releases', cliJob.release ?? '')), 'the CLI release is kept as the previous good one');
});
