import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { localToken, serverInfoPath, type ServerInfo } from '../daemon/paths.js';
import { isSameProcessAlive } from '../lib/proc.js';

/** How the CLI talks to a running server: found through data_dir/server.json. */
export interface ApiClient {
  url: string;
  request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function findServer(config: Config): Promise<ApiClient | null> {
  const file = serverInfoPath(config);
  if (!existsSync(file)) return null;
  let info: ServerInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return null;
  }
  if (!isSameProcessAlive(info.pid, null)) return null;
  try {
    const res = await fetch(`${info.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
  } catch {
    return null;
  }
  const token = config.auth_token ?? localToken(config);
  return {
    url: info.url,
    async request<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${info.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
  };
}
