import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/http/app.js';
import { parseConfigText } from '../../src/config/load.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from './tmp.js';

export const TOKEN = 'dashboard-test-token-0123456789';

export interface ServedApp {
  app: FastifyInstance;
  url: string;
  store: Store;
  dir: string;
  /** Parsed pino lines at info and above. */
  logs: Record<string, unknown>[];
  kicked: string[];
  /** fetch with the bearer token. */
  api(path: string, init?: RequestInit): Promise<Response>;
}

/** The real app from a config's whole text, listening on `host`:0, with every log line kept; closed when the test ends. */
export async function listenConfig(
  t: { after(fn: () => unknown): void },
  text: string,
  o: { deps?: Partial<AppDeps>; host?: string } = {},
): Promise<{ app: FastifyInstance; port: number; store: Store; dir: string; logs: Record<string, unknown>[]; kicked: string[] }> {
  const dir = tempDir(t);
  const config = parseConfigText(text, join(dir, 'autopull.yml'), {});
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const kicked: string[] = [];
  const app = await buildApp({ config, store, logger: pino({ level: 'info' }, sink), kick: (r) => kicked.push(r), apiTokens: [], ...o.deps });
  await app.listen({ host: o.host ?? '127.0.0.1', port: 0 });
  t.after(async () => {
    // A client's spare kept-alive connection (or a stalled test connection) must not hold the close up.
    app.server.closeAllConnections();
    await app.close();
    store.close();
  });
  return { app, port: (app.server.address() as AddressInfo).port, store, dir, logs, kicked };
}

/**
 * The real app listening on 127.0.0.1:0 over a real SQLite store, from YAML (`data_dir` and
 * `auth_token: TOKEN` are added); `deps` overrides parts of AppDeps. Closed when the test ends.
 */
export async function servedApp(t: { after(fn: () => unknown): void }, yaml: string, deps: Partial<AppDeps> = {}): Promise<ServedApp> {
  const { app, port, store, dir, logs, kicked } = await listenConfig(t, `data_dir: ./data\nauth_token: ${TOKEN}\n${yaml}`, { deps });
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    store,
    dir,
    logs,
    kicked,
    api: (path, init = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } }),
  };
}
