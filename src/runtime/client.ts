import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../lib/errors.js';
import { lineReader, type OpName, type Ops, type Response, type RuntimeEvent } from './protocol.js';
import { runtimePaths, socketPathProblem } from './paths.js';
import { rotateIfLarge } from '../lib/log-rotate.js';

/** The runtime answered with an error (its code: unknown_instance, listen_failed, ...). */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 120_000;

/**
 * serve's side of the control socket: requests with answers, and the runtime's events
 * (`event`, RuntimeEvent). `close` is emitted when the connection ends (the runtime died).
 */
export class RuntimeClient extends EventEmitter {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  closed = false;

  private constructor(private readonly socket: Socket) {
    super();
    socket.on(
      'data',
      lineReader(
        (line) => this.receive(line),
        () => socket.destroy(new Error('runtime sent a line over 1 MiB')),
      ),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new RuntimeError('runtime_gone', 'the runtime closed the connection'));
      }
      this.pending.clear();
      this.emit('close');
    });
  }

  static async connect(socketPath: string): Promise<RuntimeClient> {
    const socket = connect(socketPath);
    await once(socket, 'connect');
    return new RuntimeClient(socket);
  }

  request<K extends OpName>(op: K, args: Ops[K][0], timeoutMs = REQUEST_TIMEOUT_MS): Promise<Ops[K][1]> {
    if (this.closed) return Promise.reject(new RuntimeError('runtime_gone', 'the runtime connection is closed'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RuntimeError('timeout', `the runtime did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  close(): void {
    this.socket.end();
  }

  private receive(line: string): void {
    let msg: Response | RuntimeEvent;
    try {
      msg = JSON.parse(line) as Response | RuntimeEvent;
    } catch {
      return;
    }
    if ('event' in msg) {
      this.emit('event', msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new RuntimeError(msg.error, msg.message));
  }
}

/** runtime.log past this at a runtime's start is moved to runtime.log.1. */
const RUNTIME_LOG_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Connects to the data_dir's runtime, starting one (detached: it outlives this process) when
 * none answers. Resolves once it listens.
 */
export async function ensureRuntime(dataDir: string): Promise<RuntimeClient> {
  const { socket, log } = runtimePaths(dataDir);
  const tooLong = socketPathProblem(dataDir);
  if (tooLong !== null) throw new RuntimeError('socket_path_too_long', tooLong);
  try {
    return await RuntimeClient.connect(socket);
  } catch {
    // none running: start one
  }
  // Each runtime appends to the same log: keep it from growing without end across many starts.
  rotateIfLarge(log, RUNTIME_LOG_MAX_BYTES);
  const fd = openSync(log, 'a', 0o600);
  const child = spawn(process.execPath, [...loaderArgs(), entryPath(), dataDir, '--ready-fd', '3'], { detached: true, stdio: ['ignore', fd, fd, 'pipe'] });
  closeSync(fd);
  const ready = child.stdio[3] as NodeJS.ReadableStream | null;
  const said = await new Promise<string>((resolve) => {
    let text = '';
    ready?.on('data', (c: Buffer) => (text += c.toString()));
    // An empty end is a crash before a word: its exit says more.
    ready?.on('end', () => text.trim() !== '' && resolve(text.trim()));
    child.on('exit', (code, signal) => resolve(text.trim() || `it exited with ${signal ?? `code ${code}`}`));
  });
  child.unref();
  (ready as unknown as Socket | null)?.destroy();
  if (!said.startsWith('ready') && !said.startsWith('running')) throw new RuntimeError('start_failed', `the runtime did not start (${said}); see ${log}`);
  try {
    return await RuntimeClient.connect(socket);
  } catch (err) {
    throw new RuntimeError('start_failed', `the runtime started but its socket does not answer: ${errorMessage(err)}; see ${log}`);
  }
}

/** The runtime's entry file, next to this one (.ts under tsx, .js when built). */
function entryPath(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/client\.(ts|js)$/, 'entry.$1');
}

/** The loader flags this process runs with (`--import tsx` in development), for the runtime too. */
export function loaderArgs(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(import|require|loader|experimental-loader)=/.test(a)) out.push(a);
    else if (/^--(import|require|loader|experimental-loader)$/.test(a) && argv[i + 1] !== undefined) out.push(a, argv[++i]!);
  }
  return out;
}
