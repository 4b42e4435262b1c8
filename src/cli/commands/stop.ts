import { join, resolve } from 'node:path';
import { configPath } from '../../config/load.js';
import { DEFAULT_GRACE_MS, stopRuntime, stopServer, stopSettings } from '../../daemon/stop.js';

/** Beyond shutdown_grace: the apps' stop_timeout and the last writes. */
const STOP_MARGIN_MS = 120_000;

export async function stopCommand(opts: { config?: string; pidFile?: string; all?: boolean }): Promise<void> {
  let settings: { dataDir: string | null; graceMs: number };
  try {
    settings = stopSettings(configPath(opts.config));
  } catch (err) {
    // With --pid-file, stop works without a config (then shutdown_grace is taken as its default).
    if (!opts.pidFile || opts.all) throw err;
    settings = { dataDir: null, graceMs: DEFAULT_GRACE_MS };
  }
  const { dataDir, graceMs } = settings;
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : join(dataDir as string, 'autopull.pid');
  const pid = await stopServer(pidFile, graceMs + STOP_MARGIN_MS);
  console.log(pid === null ? `autopull is not running (no live autopull in ${pidFile})` : `autopull (pid ${pid}) stopped`);
  if (!opts.all) return;
  const runtime = await stopRuntime(dataDir as string, STOP_MARGIN_MS);
  console.log(runtime === null ? 'no runtime was running (no proxy, no app behind one)' : `the runtime (pid ${runtime}) stopped: its proxies are closed and the apps behind them stopped`);
}
