import { startDaemon } from '../../daemon/daemonize.js';
import { runServe, type ServeOptions } from '../../daemon/serve.js';
import { UsageError } from '../../lib/errors.js';

export async function serveCommand(opts: Omit<ServeOptions, 'readyFd'> & { daemon?: boolean; readyFd?: string }): Promise<void> {
  const { daemon, readyFd, ...rest } = opts;
  if (daemon) {
    const d = await startDaemon(rest);
    console.log(`autopull started in the background: pid ${d.pid}, listening on ${d.url}`);
    console.log(`  log:      ${d.logFile}`);
    console.log(`  pid file: ${d.pidFile}`);
    console.log(`  stop it:  autopull stop${rest.config ? ` -c ${rest.config}` : ''}${rest.pidFile ? ` --pid-file ${rest.pidFile}` : ''}`);
    return;
  }
  let fd: number | undefined;
  if (readyFd !== undefined) {
    fd = Number(readyFd);
    if (!Number.isInteger(fd) || fd < 3) throw new UsageError(`--ready-fd must be a file descriptor number of 3 or more, not "${readyFd}"`);
  }
  await runServe({ ...rest, ...(fd === undefined ? {} : { readyFd: fd }) });
}
