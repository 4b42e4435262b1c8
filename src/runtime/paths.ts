import { join } from 'node:path';

/** The longest unix socket path the system takes (sun_path less its NUL): longer ones are cut short by some Node versions. */
export const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/** Why the runtime of `dataDir` cannot have its control socket there, or null when it can. */
export function socketPathProblem(dataDir: string): string | null {
  const { socket } = runtimePaths(dataDir);
  const bytes = Buffer.byteLength(socket);
  if (bytes <= MAX_SOCKET_PATH) return null;
  return `data_dir ${dataDir} is too long for the runtime's control socket: ${socket} is ${bytes} bytes, the system takes ${MAX_SOCKET_PATH}; use a data_dir path of at most ${MAX_SOCKET_PATH - (bytes - Buffer.byteLength(dataDir))} bytes`;
}

/** Where the runtime of a data_dir keeps its socket, pid and log. */
export function runtimePaths(dataDir: string): { socket: string; pid: string; log: string; processes: string; lock: string } {
  return {
    socket: join(dataDir, 'runtime.sock'),
    pid: join(dataDir, 'runtime.pid'),
    log: join(dataDir, 'runtime.log'),
    processes: join(dataDir, 'runtime-apps.json'),
    lock: join(dataDir, 'runtime.lock'),
  };
}
