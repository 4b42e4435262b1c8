import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/load.js';
import { writeFileAtomic } from '../lib/atomic-fs.js';
import { ensurePrivateDir } from '../lib/private-fs.js';

/** Where a running server tells the CLI how to reach it. */
export interface ServerInfo {
  pid: number;
  url: string;
  started_at: string;
  version: string;
}

export function databasePath(config: Config): string {
  return join(config.data_dir, 'autopull.db');
}

export function serverInfoPath(config: Config): string {
  return join(config.data_dir, 'server.json');
}

/**
 * A token only local users who can read data_dir have: the CLI uses it to talk to the
 * server when the config has no auth_token. Made once, mode 0600.
 */
export function localToken(config: Config): string {
  const file = join(config.data_dir, 'local.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  ensurePrivateDir(config.data_dir);
  const token = randomBytes(24).toString('hex');
  writeFileAtomic(file, `${token}\n`, 0o600);
  chmodSync(file, 0o600);
  return token;
}

export function formatUrl(host: string, port: number, tls: boolean): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}
