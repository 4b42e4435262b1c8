import type { Config } from '../config/load.js';
import { databasePath } from '../daemon/paths.js';
import { Store } from '../store/store.js';
import { AppError, ERROR_STATUS, type ErrorCode } from '../lib/errors.js';
import { findServer, type ApiClient } from './client.js';

/**
 * A command that reads or changes what the server keeps: through the running server's API
 * when one runs (it owns the data, and its answer is what the dashboard shows), else on the
 * same data_dir in this process (SQLite's WAL lets both work on one file).
 */
export async function viaServerOrStore<T>(config: Config, api: (client: ApiClient) => Promise<T>, local: (store: Store) => T | Promise<T>): Promise<T> {
  const client = await findServer(config);
  if (client) return api(client);
  const store = new Store(databasePath(config));
  try {
    return await local(store);
  } finally {
    store.close();
  }
}

/**
 * Calls the API and returns its JSON body; an answer `{ok: false, error, message}` becomes
 * the AppError it was on the server (exit 1 with the server's message).
 */
export async function apiCall<T>(client: ApiClient, method: string, path: string, body?: unknown): Promise<T> {
  const res = await client.request<{ ok?: boolean; error?: string; message?: string }>(method, path, body);
  if (res.body.ok === true) return res.body as T;
  const code = (typeof res.body.error === 'string' && res.body.error in ERROR_STATUS ? res.body.error : 'internal') as ErrorCode;
  throw new AppError(code, typeof res.body.message === 'string' ? res.body.message : `${client.url} answered ${res.status} without a message`);
}
