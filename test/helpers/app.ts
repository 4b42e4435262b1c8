import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

/** The fixture app (test/fixtures/app/server.mjs), run by `deploy.start` lines in tests. */
export const APP = fileURLToPath(new URL('../fixtures/app/server.mjs', import.meta.url));
export const APP_START = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(APP)}`;

/** A port that is free now: listen on 0, note the port, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise((r) => server.close(r));
  return port;
}

/** GET http://127.0.0.1:port/path: the body on 2xx, null when nothing answers. */
export async function get(port: number, path = '/'): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

/** Polls `check` every 20 ms until it returns a truthy value (never a fixed sleep). */
export async function waitUntil<T>(what: string, check: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** Resolves when `port` serves a body matching `re`. */
export function servesVersion(port: number, re: RegExp, timeoutMs?: number): Promise<string> {
  return waitUntil(`port ${port} to serve ${re}`, async () => {
    const r = await get(port);
    return r && r.status === 200 && re.test(r.body) ? r.body : null;
  }, timeoutMs);
}
