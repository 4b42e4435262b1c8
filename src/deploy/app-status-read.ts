import { readFileSync } from 'node:fs';
import type { Config, RepoConfig } from '../config/load.js';
import { errorMessage } from '../lib/errors.js';
import { groupHasLive } from '../lib/process-group.js';
import { RuntimeClient } from '../runtime/client.js';
import type { RuntimeStatus } from '../runtime/protocol.js';
import { runtimePaths } from '../runtime/paths.js';
import type { Apps } from './apps.js';
import { portAppStatus, proxiedAppStatus, supervisedRepos, type AppStatus } from './app-status.js';
import { appPidFile, isOurs, type PidFile } from './supervisor.js';

/**
 * Reads the supervised apps' state, for `GET /api/apps` and `autopull apps`/`status`:
 * - `serverApps`: in serve, from its own supervisors and its connection to the runtime;
 * - `localApps`: with no server running, from what is left to read: each port-mode app's pid
 *   file (an app still running there was left by a server killed with -9) and the runtime's
 *   socket, which is asked without ever starting a runtime.
 */
export async function serverApps(config: Config, apps: Apps, only?: string): Promise<AppStatus[]> {
  const repos = supervisedRepos(config, only);
  const runtime = repos.some((r) => r.deploy?.proxy) ? await apps.proxied.status().then(ok, failed) : null;
  return repos.map((repo) => {
    if (repo.deploy?.proxy) return proxiedAppStatus(repo, runtime?.status ?? null, 'runtime', runtime?.note ?? null);
    const sup = apps.get(repo);
    return portAppStatus(repo, { state: sup.state, release: sup.release, pid: sup.pid, port: repo.deploy?.port ?? null, spawnedAtMs: sup.spawnedAt, restarts: sup.restarts }, 'server', null);
  });
}

export async function localApps(config: Config, only?: string): Promise<AppStatus[]> {
  const repos = supervisedRepos(config, only);
  const runtime = repos.some((r) => r.deploy?.proxy) ? await askRuntime(config.data_dir) : null;
  return repos.map((repo) => {
    if (repo.deploy?.proxy) return proxiedAppStatus(repo, runtime?.status ?? null, 'runtime', runtime?.note ?? null);
    return fromPidFile(config, repo);
  });
}

type RuntimeAnswer = { status: RuntimeStatus | null; note: string | null };

const ok = (status: RuntimeStatus | null): RuntimeAnswer => ({ status, note: null });
const failed = (err: unknown): RuntimeAnswer => ({ status: null, note: `the runtime did not answer: ${errorMessage(err)}` });

/** The runtime's status over its socket; never starts one. */
async function askRuntime(dataDir: string): Promise<RuntimeAnswer> {
  let c: RuntimeClient;
  try {
    c = await RuntimeClient.connect(runtimePaths(dataDir).socket);
  } catch {
    return ok(null);
  }
  try {
    return ok(await c.request('status', {}, 5000));
  } catch (err) {
    return failed(err);
  } finally {
    c.close();
  }
}

function fromPidFile(config: Config, repo: RepoConfig): AppStatus {
  const name = repo.name;
  const note = 'no server is running: read from the pid file';
  let info: PidFile;
  try {
    info = JSON.parse(readFileSync(appPidFile(config.data_dir, name), 'utf8')) as PidFile;
  } catch {
    return portAppStatus(repo, { state: 'stopped', release: null, pid: null, port: null, spawnedAtMs: null, restarts: null }, 'pid_file', note);
  }
  const alive = Number.isInteger(info.pid) && info.pid > 1 && groupHasLive(info.pid) && isOurs(info.pid, name);
  const spawned = Date.parse(info.started_at);
  return portAppStatus(
    repo,
    { state: alive ? 'running' : 'stopped', release: info.release || null, pid: alive ? info.pid : null, port: info.port, spawnedAtMs: alive && Number.isFinite(spawned) ? spawned : null, restarts: null },
    'pid_file',
    alive ? 'no server is running: this app was left by a server that ended without stopping it (the next autopull serve replaces it)' : note,
  );
}
