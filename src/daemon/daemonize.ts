import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { configPath, loadConfig } from '../config/load.js';
import { AppError, UsageError } from '../lib/errors.js';
import { logLevel } from '../lib/log.js';
import { ensurePrivateDir } from '../lib/private-fs.js';
import { loaderArgs } from '../runtime/client.js';
import { defaultLogFile, defaultPidFile, livePid } from './pid-file.js';
import type { ReadyMessage, ServeOptions } from './serve.js';

export interface DaemonStarted {
  pid: number;
  url: string;
  pidFile: string;
  logFile: string;
}

/**
 * `autopull serve --daemon`: checks the config and the pid file here, where a problem can
 * still be printed, then starts `autopull serve` detached (setsid: a new session, no
 * controlling terminal, so closing the shell that started it does not stop it), its stdin
 * /dev/null and stdout and stderr appended to the log file. It waits for the daemon's one
 * line on an inherited pipe: ready (listening, pid file written) or the reason it could not
 * start. A daemon that dies before it says anything is reported with its exit status and the
 * end of its log. Never a sleep: the answer, or the daemon's end, is the event.
 */
export async function startDaemon(opts: ServeOptions): Promise<DaemonStarted> {
  const level = logLevel(opts.logLevel);
  if (level === null) throw new UsageError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent, not "${opts.logLevel ?? process.env.AUTOPULL_LOG_LEVEL}"`);
  const file = configPath(opts.config);
  const config = loadConfig(file);
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : defaultPidFile(config);
  const logFile = opts.logFile ? resolve(opts.logFile) : defaultLogFile(config);
  const other = livePid(pidFile);
  if (other !== null) throw new AppError('conflict', `autopull already runs with pid ${other} (pid file ${pidFile}); stop it first with: autopull stop -c ${file}`);
  ensurePrivateDir(config.data_dir);
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    const args = ['serve', '-c', file, '--pid-file', pidFile, '--log-file', logFile, '--log-level', level, '--ready-fd', '3'];
    child = spawn(process.execPath, [...loaderArgs(), resolve(process.argv[1] ?? 'autopull'), ...args], { detached: true, stdio: ['ignore', fd, fd, 'pipe'] });
  } finally {
    closeSync(fd);
  }
  const said = await readyMessage(child, logFile);
  child.unref();
  (child.stdio[3] as Readable | null)?.destroy();
  if (!said.ok) throw new AppError('internal', `autopull did not start: ${said.error} (log: ${logFile})`);
  return { pid: said.pid, url: said.url, pidFile, logFile };
}

function readyMessage(child: ChildProcess, logFile: string): Promise<ReadyMessage> {
  return new Promise((done) => {
    let text = '';
    let settled = false;
    const settle = (msg: ReadyMessage) => {
      if (!settled) done(msg);
      settled = true;
    };
    const pipe = child.stdio[3] as Readable | null;
    pipe?.on('data', (c: Buffer) => {
      text += c.toString();
      const line = text.split('\n')[0] ?? '';
      if (text.includes('\n')) settle(parseReady(line));
    });
    pipe?.on('error', () => undefined);
    child.on('error', (err) => settle({ ok: false, error: err.message }));
    child.on('exit', (code, signal) => settle({ ok: false, error: `it ended (${signal ?? `exit ${code}`}) before it listened${logTail(logFile)}` }));
  });
}

function parseReady(line: string): ReadyMessage {
  try {
    const msg = JSON.parse(line) as ReadyMessage;
    if (msg.ok === true && Number.isInteger(msg.pid) && typeof msg.url === 'string') return msg;
    if (msg.ok === false && typeof msg.error === 'string') return msg;
  } catch {
    // not ours
  }
  return { ok: false, error: `it answered ${JSON.stringify(line.slice(0, 200))}` };
}

/** The last lines of the log, for a daemon that died before it could say why. */
function logTail(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-5);
    return lines.length > 0 && lines[0] !== '' ? `; the end of its log:\n${lines.join('\n')}` : '';
  } catch {
    return '';
  }
}
