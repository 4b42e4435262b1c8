import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config, RepoConfig } from '../../config/load.js';
import type { AppStatus } from '../../deploy/app-status.js';
import { layout, readCurrent } from '../../deploy/releases.js';
import { appLogFile } from '../../deploy/supervisor.js';
import { AppError, errorMessage } from '../../lib/errors.js';
import { escapeControls } from '../../lib/escape-controls.js';
import { FileFollower, tailStart } from '../../lib/tail.js';
import { supervisedRepo } from '../../runner/apps.js';
import { fetchApps } from './apps.js';

/** The output shown first: the last 64 KiB of the log (from a line start), never the whole file. */
export const TAIL_BYTES = 64 * 1024;
const POLL_MS = 250;
/** The app's state is asked every this many polls (once a second): a deploy may move it to another release. */
const CHECK_EVERY = 4;

/**
 * `autopull logs --app REPO`: the supervised app's output (`data_dir/logs/<repo>/<release>.log`
 * of the release it runs; behind the proxy, the routed instance's), its last 64 KiB first,
 * then followed while the app runs: when a deploy or rollback makes another release live, on
 * in that release's log; when the app is stopped or has crashed, the command ends (exit 1 for
 * crashed). Every line is printed with its control characters escaped.
 */
export async function appLogsCommand(config: Config, name: string, follow: boolean, write: (s: string) => void = (s) => console.log(s)): Promise<void> {
  const repo = supervisedRepo(config, name);
  const state = async (): Promise<AppStatus | null> => (await fetchApps(config, repo.name))[0] ?? null;
  let app = await state();
  let release = logRelease(config, repo, app);
  if (release === null) throw new AppError('not_found', `the app of ${repo.name} has no output yet: no release of it has run (${join(config.data_dir, 'logs', repo.name)} holds no log)`);
  let f = follower(config, repo, release);
  const print = (lines: string[]) => lines.forEach((l) => write(escapeControls(l)));
  const drain = () => {
    do print(f.read());
    while (f.behind());
    const rest = f.rest();
    if (rest !== null) write(escapeControls(rest));
  };
  for (let tick = 0; follow && app !== null && isUp(app); tick++) {
    print(f.read());
    if (f.behind()) continue;
    await delay(POLL_MS);
    if (tick % CHECK_EVERY !== CHECK_EVERY - 1) continue;
    app = await state().catch((err: unknown) => {
      console.error(`autopull: could not read the app's state (${errorMessage(err)}); following on`);
      return app;
    });
    const next = app?.release ?? null;
    if (next !== null && next !== release && existsSync(appLogFile(config.data_dir, repo.name, next))) {
      drain();
      write(`--- releases/${next} is live now: its output follows ---`);
      release = next;
      f = follower(config, repo, release);
    }
  }
  drain();
  if (app?.state === 'crashed') {
    console.error(`autopull: the app of ${repo.name} has crashed (max_restarts reached): it stays down until the next deploy or autopull restart ${repo.name}`);
    process.exitCode = 1;
  } else if (follow && app !== null && !isUp(app)) {
    console.error(`autopull: the app of ${repo.name} is ${app.state}`);
  }
}

function isUp(app: AppStatus): boolean {
  return app.state !== 'stopped' && app.state !== 'crashed';
}

function follower(config: Config, repo: RepoConfig, release: string): FileFollower {
  const file = appLogFile(config.data_dir, repo.name, release);
  if (!existsSync(file)) throw new AppError('not_found', `the app of ${repo.name} has no output for releases/${release} yet (no file ${file})`);
  return new FileFollower(file, tailStart(file, TAIL_BYTES));
}

/** The release whose log to show: the one the app runs, else `current`'s, else the newest log there is. */
function logRelease(config: Config, repo: RepoConfig, app: AppStatus | null): string | null {
  if (app?.release) return app.release;
  const current = repo.deploy ? readCurrent(layout(repo.deploy.path)) : null;
  if (current !== null && existsSync(appLogFile(config.data_dir, repo.name, current))) return current;
  const dir = join(config.data_dir, 'logs', repo.name);
  let newest: { release: string; mtime: number } | null = null;
  try {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.log')) continue;
      const mtime = statSync(join(dir, name)).mtimeMs;
      if (!newest || mtime > newest.mtime) newest = { release: name.slice(0, -4), mtime };
    }
  } catch {
    return null;
  }
  return newest?.release ?? null;
}
