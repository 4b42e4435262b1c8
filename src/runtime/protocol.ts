import { StringDecoder } from 'node:string_decoder';

/**
 * The runtime's control protocol: newline-delimited JSON over a unix socket in data_dir
 * (owner-only). A request is `{ id, op, args }`; its answer `{ id, ok: true, result }` or
 * `{ id, ok: false, error, message }`. The runtime also pushes `{ event, ... }` lines to every
 * connection (an instance exited, a drain ended). A line over MAX_LINE bytes closes the
 * connection: nothing a client sends can grow the runtime's memory without bound.
 */

export const MAX_LINE = 1024 * 1024;
export const PROTOCOL_VERSION = 1;

/** How an app instance is started. The runtime gives it a free loopback port unless `port` is set. */
export interface InstanceSpec {
  repo: string;
  release: string;
  /** The release folder (real path): the app's working directory. */
  cwd: string;
  command: string;
  env: Record<string, string>;
  /** A fixed port (`deploy.port`); else a free one on 127.0.0.1. */
  port?: number;
  logFile: string;
  minUptimeMs: number;
  maxRestarts: number;
}

export type InstanceState = 'starting' | 'running' | 'backoff' | 'crashed' | 'draining' | 'stopped';

export interface InstanceInfo {
  id: string;
  repo: string;
  release: string;
  pid: number | null;
  port: number;
  state: InstanceState;
  started_at: string;
  /** When its current process started (after a restart, the restart's time); null while none runs. Absent from an older runtime. */
  spawned_at?: string | null;
  restarts: number;
  /** Whether the repo's proxy sends it traffic. */
  routed: boolean;
  open: { requests: number; sockets: number };
}

export interface ProxyInfo {
  repo: string;
  listen: string;
  target: string | null;
}

export interface RuntimeStatus {
  version: string;
  protocol: number;
  pid: number;
  started_at: string;
  proxies: ProxyInfo[];
  instances: InstanceInfo[];
}

/** trust_proxy as the config holds it: none, the nearest hop, or a list of CIDR blocks. */
export type TrustSetting = boolean | string[];

/** Every operation: [its arguments, its result]. */
export interface Ops {
  status: [Record<string, never>, RuntimeStatus];
  /** Listens for the repo's traffic at host:port (again with new settings when they changed). */
  'proxy.listen': [{ repo: string; host: string; port: number; trustProxy: TrustSetting }, ProxyInfo];
  'proxy.close': [{ repo: string }, Record<string, never>];
  'instance.start': [InstanceSpec, InstanceInfo];
  /** Stops an instance now (SIGTERM, SIGKILL after stopTimeoutMs); resolves when it has exited. */
  'instance.stop': [{ id: string; stopTimeoutMs: number }, InstanceInfo];
  /**
   * Sends the repo's new requests to `id` (null: none, 503) at once. The instance routed
   * before keeps running; what it has open gets drainMs to end, then is closed cleanly.
   * `retire` it, or route back to it (a revert).
   */
  route: [{ repo: string; id: string | null; drainMs: number }, ProxyInfo];
  /**
   * Stops an instance that no longer gets traffic once what it had open has ended (or its
   * route's drainMs has passed and the rest was closed). Answers at once; `retired` follows.
   */
  retire: [{ id: string; stopTimeoutMs: number }, InstanceInfo];
  /** Stops every instance and exits. */
  shutdown: [Record<string, never>, Record<string, never>];
}

export type OpName = keyof Ops;

export interface Request<K extends OpName = OpName> {
  id: number;
  op: K;
  args: Ops[K][0];
}

export type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; message: string };

export type RuntimeEvent =
  | { event: 'exit'; id: string; repo: string; code: number | null; signal: string | null; uptimeMs: number; crash: boolean; restarting: boolean }
  | { event: 'crashed'; id: string; repo: string }
  | { event: 'retired'; id: string; repo: string; drained: boolean; closed: number }
  /** The runtime is stopping on purpose (SIGTERM, the shutdown op): not a crash to recover from. */
  | { event: 'stopping' };

/**
 * Splits a byte stream into lines; calls `onLine` per line and `onOverflow` once a line passes
 * MAX_LINE, after which the rest of the stream is ignored. A character split across two
 * chunks is decoded whole, and each chunk is searched once (a line sent a byte at a time costs
 * no more than one sent at once).
 */
export function lineReader(onLine: (line: string) => void, onOverflow: () => void): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let overflowed = false;
  const overflow = () => {
    overflowed = true;
    pending = '';
    onOverflow();
  };
  return (chunk) => {
    if (overflowed) return;
    const text = decoder.write(chunk);
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) >= 0) {
      const line = pending + text.slice(start, nl);
      pending = '';
      start = nl + 1;
      if (line.length > MAX_LINE) return overflow();
      if (line.trim() !== '') onLine(line);
      if (overflowed) return;
    }
    pending += text.slice(start);
    if (pending.length > MAX_LINE) overflow();
  };
}
