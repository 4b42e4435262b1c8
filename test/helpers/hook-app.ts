import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { parseConfigText } from '../../src/config/load.js';
import { Store } from '../../src/store/store.js';
import { silentLogger } from '../../src/lib/log.js';
import { tempDir } from './tmp.js';

interface HasAfter {
  after(fn: () => unknown): void;
}

export interface HookApp {
  app: FastifyInstance;
  store: Store;
  /** POSTs a delivery through `inject`; `remoteAddress` is the TCP peer the server sees. */
  send(url: string, d: { headers: Record<string, string>; body: string | Buffer }, remoteAddress?: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

/**
 * The real app (not listening) over a real SQLite store in a temp dir, from a YAML config
 * (`data_dir: ./data` is added); closed when the test ends.
 */
export async function hookApp(t: HasAfter, yaml: string, opts: { now?: Date } = {}): Promise<HookApp> {
  const dir = tempDir(t);
  const config = parseConfigText(`data_dir: ./data\n${yaml}`, join(dir, 'autopull.yml'), {});
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const now = opts.now;
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [], now: now ? () => now : undefined });
  t.after(async () => {
    await app.close();
    store.close();
  });
  return {
    app,
    store,
    async send(url, d, remoteAddress) {
      const res = await app.inject({ method: 'POST', url, headers: d.headers, payload: d.body, remoteAddress });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    },
  };
}

/**
 * Counts JSON.parse calls on texts of at least `minLength` characters (full parses of a
 * large body, whoever makes them) until the test ends.
 */
export function countLargeParses(t: HasAfter, minLength: number): { readonly count: number; reset(): void } {
  const original = JSON.parse;
  let count = 0;
  JSON.parse = function parse(text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) {
    if (typeof text === 'string' && text.length >= minLength) count++;
    return original(text, reviver);
  } as typeof JSON.parse;
  t.after(() => {
    JSON.parse = original;
  });
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
  };
}
