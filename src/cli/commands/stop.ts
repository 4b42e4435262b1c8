import { join, resolve } from 'node:path';
import { configPath } from '../../config/load.js';
import { stopRuntime, stopServer, stopSettings } from '../../daemon/stop.js';

/** Beyond shutdown_grace: the apps' stop_timeout and the last writes. */
const STOP_MARGIN_MS = 120_000;

export async function stopCommand(opts: { config?: string; pidFile?: string; all?: boolean }): Promise<void> {
  const { dataDir, graceMs } = stopSettings(configPath(opts.config));
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : join(dataDir, 'autopull.pid');
  const pid = await stopServer(pidFile, graceMs + STOP_MARGIN_MS);
  console.log(pid === null ? `autopull is not running (no live autopull in ${pidFile})` : `autopull (pid ${pid}) stopped`);
  if (!opts.all) return;
  const runtime = await stopRuntime(dataDir, STOP_MARGIN_MS);
  console.log(runtime === null ? 'no runtime was running (no proxy, no app behind one)' : `the runtime (pid ${runtime}) stopped: its proxies are closed and the apps behind them stopped`);
}
