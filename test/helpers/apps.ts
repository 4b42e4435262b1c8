import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, type Project } from './project.js';
import { runCli, type CliResult } from './cli.js';
import { APP_START, freePort, waitUntil } from './app.js';
import { api, waitForJob, type ApiJob } from './api.js';
import { stopRuntime } from './runtime.js';
import type { AppStatus } from '../../src/deploy/app-status.js';

type T = { after(fn: () => unknown): void };

export interface TwoApps {
  p: Project;
  /** Where `site` (behind the proxy) serves. */
  proxyPort: number;
  /** `blog`'s deploy.port. */
  appPort: number;
  /** Runs the built CLI with `-c` the project's config. */
  cli(args: string[]): Promise<CliResult>;
  /** `autopull apps --json`, as objects. */
  apps(): Promise<AppStatus[]>;
  /** The app of `repo` once `ok` holds for it (checked through the CLI, bounded). */
  appWhen(repo: string, ok: (a: AppStatus) => boolean, what: string): Promise<AppStatus>;
}

/**
 * One remote, three repos: `site` behind autopull's proxy, `blog` supervised on one port,
 * `docs` with no supervised app (deploy.restart). The runtime is stopped when the test ends.
 */
export async function twoApps(t: T, o: { minUptime?: string; extra?: string } = {}): Promise<TwoApps> {
  const proxyPort = await freePort();
  const appPort = await freePort();
  let dataDir: string | null = null;
  // Registered before the project's own cleanup (which removes data_dir): hooks run in order.
  t.after(() => (dataDir ? stopRuntime(dataDir) : undefined));
  const common = `      min_uptime: ${o.minUptime ?? '200ms'}\n      stop_timeout: 2s\n      probation: 300ms\n      health: { url: /healthz, timeout: 10s, interval: 20ms }\n${o.extra ?? ''}`;
  const p = makeProject(t, { deployYaml: `      start: ${JSON.stringify(APP_START)}\n      proxy: 127.0.0.1:${proxyPort}\n      drain_timeout: 5s\n${common}` });
  dataDir = join(p.dir, 'data');
  appendFileSync(
    p.configFile,
    `  blog:\n    url: ./remote.git\n    secret: ${p.secret}\n    deploy:\n      path: ./srv-blog\n      start: ${JSON.stringify(APP_START)}\n      port: ${appPort}\n${common}` +
      `  docs:\n    url: ./remote.git\n    secret: ${p.secret}\n    deploy:\n      path: ./srv-docs\n      restart: "true"\n`,
  );
  const cli = (args: string[]) => runCli([...args, '-c', p.configFile]);
  const apps = async () => {
    const r = await cli(['apps', '--json']);
    if (r.code !== 0) throw new Error(`autopull apps: exit ${r.code}: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { apps: AppStatus[] }).apps;
  };
  const appWhen = (repo: string, ok: (a: AppStatus) => boolean, what: string) =>
    waitUntil(`${repo}: ${what}`, async () => {
      const a = (await apps()).find((x) => x.repo === repo);
      return a && ok(a) ? a : null;
    }, 60_000);
  return { p, proxyPort, appPort, cli, apps, appWhen };
}

/** Queues a deploy of `repo` through the API and waits for its end. */
export async function deployRepo(url: string, p: Project, repo: string): Promise<ApiJob> {
  const r = await api<{ jobs: number[] }>(url, p.token, `/api/repos/${repo}/deploy`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  return waitForJob(url, p.token, r.jobs[0]!);
}
