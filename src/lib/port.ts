import { createServer } from 'node:net';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Whether a TCP port is taken, and by whom. The test is a bind on the wildcard address (`::`,
 * dual-stack, or 0.0.0.0 without IPv6), which fails with EADDRINUSE when anything listens on
 * the port on any local address, IPv4 or IPv6. Any other bind error (EACCES on a port below
 * 1024) says nothing about the port: it counts as free, and the app meets it itself.
 */
export function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    probe.listen({ port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/**
 * Polls `portTaken` until the port is free or `waitMs` has passed (a process that just
 * exited may hold its socket a moment longer); true when it is still taken.
 */
export async function portStaysTaken(port: number, waitMs: number, pollMs = 50): Promise<boolean> {
  const end = Date.now() + waitMs;
  for (;;) {
    if (!(await portTaken(port))) return false;
    if (Date.now() >= end) return true;
    await delay(pollMs);
  }
}

/** Inodes of the sockets listening on TCP `port`, from Linux /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      const local = f[1]?.split(':')[1];
      if (local !== undefined && parseInt(local, 16) === port && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

export interface Listener {
  pid: number;
  name: string;
}

/**
 * The processes listening on TCP `port` that /proc lets us look into (our own user's; another
 * user's, root's included, stay unseen). Empty where there is no /proc.
 */
export function portListeners(port: number): Listener[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  return pids.filter((pid) => holdsSocket(pid, inodes)).map((pid) => ({ pid: Number(pid), name: readComm(pid) }));
}

function holdsSocket(pid: string, inodes: Set<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // another user's, or gone
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1] as string)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/** Who listens on `port`, as `pid 123 (python3)`, when /proc tells; null when it cannot be told. */
export function portHolder(port: number): string | null {
  const l = portListeners(port)[0];
  if (!l) return null;
  return l.pid === process.pid ? `autopull itself (pid ${l.pid})` : `pid ${l.pid} (${l.name})`;
}

function readComm(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
