import { join } from 'node:path';
import { RuntimeClient } from '../../src/runtime/client.js';
import { runtimePaths } from '../../src/runtime/runtime.js';
import { APP_START, freePort } from './app.js';
import type { Served } from './cli.js';
import { deliverPush } from './github.js';
import { waitForJob, type ApiJob } from './api.js';
import { makeProject, type Project } from './project.js';

/**
 * Stops the data_dir's runtime (its proxies and apps) through its socket; nothing when none
 * runs. Bounded: gives up waiting for the runtime's exit after 15 s.
 */
export async function stopRuntime(dataDir: string): Promise<void> {
  let c: RuntimeClient;
  try {
    c = await RuntimeClient.connect(runtimePaths(dataDir).socket);
  } catch {
    return;
  }
  const gone = new Promise<void>((resolve) => c.once('close', () => resolve()));
  await c.request('shutdown', {}, 10_000).catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 15_000)))]);
  clearTimeout(timer);
}

/**
 * A project whose app (the fixture) runs behind autopull's proxy on `proxyPort`, with these
 * deploy settings (`healthTimeout: null`: no health check). The runtime is stopped when the test ends, before the project's folder
 * goes (after hooks run in the order they were registered).
 */
export async function proxiedProject(
  t: { after(fn: () => unknown): void },
  o: { probation: string; drain: string; healthTimeout: string | null; extra?: string },
): Promise<{ p: Project; proxyPort: number }> {
  const proxyPort = await freePort();
  let dataDir: string | null = null;
  t.after(() => (dataDir ? stopRuntime(dataDir) : undefined));
  const p = makeProject(t, {
    deployYaml:
      `      start: ${JSON.stringify(APP_START)}\n      proxy: 127.0.0.1:${proxyPort}\n      min_uptime: 200ms\n      stop_timeout: 2s\n` +
      `      drain_timeout: ${o.drain}\n      probation: ${o.probation}\n` +
      (o.healthTimeout === null ? '' : `      health: { url: /healthz, timeout: ${o.healthTimeout}, interval: 20ms }\n`) +
      (o.extra ?? ''),
  });
  dataDir = join(p.dir, 'data');
  return { p, proxyPort };
}

/** Pushes a commit with `files`, delivers it to `s` and waits for its job to end. */
export async function deployFiles(s: Served, p: Project, files: Record<string, string>): Promise<ApiJob> {
  const sha = p.pushCommit(files);
  const r = await deliverPush(s.url, p, sha);
  return waitForJob(s.url, p.token, r.job);
}

