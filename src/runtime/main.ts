import { closeSync, mkdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../lib/atomic-fs.js';
import { createLogger } from '../lib/log.js';
import { isRunning, isSameProcessAlive, processStartTime } from '../lib/proc.js';
import { killGroup } from '../lib/exec.js';
import { VERSION } from '../lib/version.js';
import { ControlServer } from './control.js';
import { Runtime, runtimePaths, socketPathProblem, type MakeProxy } from './runtime.js';
import { takeStartLock } from './start-lock.js';
import { errorMessage } from '../lib/errors.js';

/**
 * The runtime process: a small long-lived process per data_dir that owns the proxies and the
 * app instances, so traffic outlives `autopull serve` (a reload, a restart, an upgrade, a
 * kill -9 of it). serve starts it when none answers on data_dir/runtime.sock and steers it
 * over that socket. SIGTERM or the `shutdown` op stop it: proxies first, then the apps.
 *
 * `readyFd`: a descriptor to write "ready" to once the socket listens (the spawner waits on it).
 */
export async function runRuntime(dataDir: string, makeProxy: MakeProxy, readyFd?: number): Promise<void> {
  const paths = runtimePaths(dataDir);
  const tooLong = socketPathProblem(dataDir);
  if (tooLong !== null) {
    signalReady(readyFd, tooLong);
    throw new Error(tooLong);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const unlock = await takeStartLock(paths.lock, START_LOCK_WAIT_MS).catch((err: unknown) => {
    signalReady(readyFd, errorMessage(err));
    throw err;
  });
  try {
    await start(paths, makeProxy, readyFd);
  } finally {
    unlock();
  }
}

/** How long a runtime waits for another one that is starting on the same data_dir. */
const START_LOCK_WAIT_MS = 10_000;

async function start(paths: ReturnType<typeof runtimePaths>, makeProxy: MakeProxy, readyFd: number | undefined): Promise<void> {
  const other = runningRuntime(paths.pid);
  if (other !== null) {
    signalReady(readyFd, `running ${other}`);
    return;
  }
  const logger = createLogger(process.env.AUTOPULL_LOG_LEVEL ?? 'info');
  let control: ControlServer | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('runtime stopping: proxies closed, apps stopped');
      control?.broadcast({ event: 'stopping' });
      await runtime.shutdown();
      await control?.close(paths.socket);
      rmSync(paths.pid, { force: true });
      logger.info('runtime stopped');
    })();
    return stopping;
  };
  const killed = killLeftovers(paths.processes);
  if (killed > 0) logger.warn(`stopped ${killed} app process(es) a runtime that died had left running`);
  const runtime = new Runtime({
    version: VERSION,
    makeProxy,
    saveProcesses: (procs) => writeFileAtomic(paths.processes, `${JSON.stringify(procs)}\n`, 0o600),
    emit: (e) => control?.broadcast(e),
    log: (level, msg) => logger[level](msg),
    onShutdown: () => void stop().then(() => process.exit(0)),
  });
  control = new ControlServer(runtime.handlers());
  // A socket file left by a runtime that died: nobody listens on it any more (the pid check says so).
  rmSync(paths.socket, { force: true });
  await control.listen(paths.socket);
  writeFileAtomic(paths.pid, `${JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) })}\n`, 0o600);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void stop().then(() => process.exit(0)));
  process.on('SIGHUP', () => undefined);
  logger.info({ pid: process.pid, socket: paths.socket }, `autopull runtime ${VERSION} ready`);
  signalReady(readyFd, 'ready');
}

/**
 * The app processes of a runtime that died (kill -9, a crash): their process groups are
 * killed, so the apps a new runtime starts are the only ones (the old ones no proxy reaches).
 */
function killLeftovers(file: string): number {
  let procs: { pid: number; start: string | null }[];
  try {
    procs = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; start: string | null }[];
  } catch {
    return 0;
  }
  let killed = 0;
  for (const p of Array.isArray(procs) ? procs : []) {
    if (!Number.isInteger(p.pid) || p.pid <= 1 || !isSameProcessAlive(p.pid, p.start)) continue;
    if (killGroup(p.pid, 'SIGKILL')) killed++;
  }
  rmSync(file, { force: true });
  return killed;
}

/** The pid of a live runtime of this data_dir, else null. */
export function runningRuntime(pidFile: string): number | null {
  try {
    const { pid, start } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; start: string | null };
    return Number.isInteger(pid) && pid !== process.pid && isRunning(pid, start) ? pid : null;
  } catch {
    return null;
  }
}

function signalReady(fd: number | undefined, what: string): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, `${what}\n`);
    closeSync(fd);
  } catch {
    // the spawner is gone: nobody waits
  }
}
