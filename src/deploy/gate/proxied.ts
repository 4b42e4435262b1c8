import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage, JobFailure } from '../../lib/errors.js';
import { formatMs } from '../../lib/exec.js';
import type { InstanceInfo, RuntimeEvent } from '../../runtime/protocol.js';
import type { JobContext } from '../context.js';
import { healthUrl, waitHealthy, waitListening, watchHealthy, type HealthTarget } from '../health.js';
import type { ProxiedApps } from '../proxied-apps.js';
import type { Layout } from '../releases.js';
import { commandEnv, step } from '../steps.js';
import { switchCurrent } from '../switch.js';
import { fail } from './restart.js';
import type { Gate, GoLive } from './types.js';

/**
 * The gate behind autopull's proxy (`deploy.proxy`): the new release runs beside the old one,
 * on a free loopback port, and gets user traffic only once it is healthy.
 *
 * - prepare: start a new instance of the release (the old one serves on);
 * - verify:  wait healthy on the new instance's own port: no user request reaches it yet;
 * - switch:  route the proxy to it (atomic: every later request goes there; what the old one
 *            has open continues there for drain_timeout) and point `current` at it;
 * - watch:   probation; the old instance stays up meanwhile, so a revert is a swap back;
 * - revert:  route back to the old instance (started again if it has gone), stop the new;
 * - dispose: stop the new instance; traffic never moved;
 * - finish:  retire the old instance: it stops once what it had open has ended.
 * An exit of the new instance while it is gated or watched fails the gate at once.
 */
export function proxiedGate(ctx: JobContext, l: Layout, g: GoLive, apps: ProxiedApps): Gate {
  const deploy = ctx.repo.deploy!;
  const repo = ctx.repo;
  let fresh: InstanceInfo | null = null;
  let old: InstanceInfo | null = null;
  const health = (port: number) => healthOn(ctx, port);

  async function startInstance(release: string, sha: string, previousSha: string | null, c: JobContext): Promise<InstanceInfo> {
    const dir = join(l.releases, release);
    return apps.start(repo, release, dir, commandEnv(c, sha, dir, previousSha, g.ref));
  }

  const settle = (port: number) => (s: AbortSignal) => {
    const h = health(port);
    // With no health check: up for min_uptime and accepting connections on its PORT.
    return h ? waitHealthy(h, s) : Promise.all([delay(deploy.min_uptime, undefined, { signal: s }), waitListening(port, s)]).then(() => undefined);
  };

  return {
    async prepare() {
      old = await apps.live(repo.name);
      fresh = await step(ctx, `start: ${deploy.start} (releases/${g.release}, beside the live one)`, () => startInstance(g.release, g.sha, g.previousSha, ctx)).catch(fail('start_failed'));
      ctx.log('info', `new instance ${fresh.id}: pid ${fresh.pid}, PORT ${fresh.port}`);
    },
    async verify() {
      const f = fresh!;
      const h = health(f.port);
      await step(ctx, h ? `wait healthy: GET ${h.url} (no user traffic yet)` : `wait: the app stays up for ${formatMs(deploy.min_uptime)} and accepts connections on PORT ${f.port}`, () =>
        whileUp(apps, f.id, ctx.signal, 'before it was healthy', settle(f.port)),
      ).catch(fail('unhealthy'));
    },
    async switch() {
      await step(ctx, `route ${deploy.proxy} -> releases/${g.release} (PORT ${fresh!.port})`, () => apps.route(repo, fresh!.id));
      switchCurrent(l, g.release);
    },
    async watch() {
      if (deploy.probation <= 0) return;
      const f = fresh!;
      const h = health(f.port);
      await step(ctx, `probation ${formatMs(deploy.probation)}${old ? ' (the old instance stays up)' : ''}`, async () => {
        const probes = await whileUp(apps, f.id, ctx.signal, 'in probation', (s) => (h ? watchHealthy(h, deploy.probation, s) : delay(deploy.probation, 0, { signal: s })));
        if (h) ctx.log('info', `${probes} health probes passed`);
      }).catch(fail('probation_failed'));
    },
    async finish() {
      if (!old || old.id === fresh?.id) return;
      const o = old;
      await step(ctx, `retire releases/${o.release} (in-flight requests get ${formatMs(deploy.drain_timeout)}, then it stops)`, () => apps.retire(repo, o.id));
    },
    async revert() {
      await swapBack({ ctx, l, g, apps, old, fresh, start: startInstance, settle });
      await dropFresh();
    },
    dispose: () => dropFresh(),
  };

  async function dropFresh(): Promise<void> {
    if (!fresh) return;
    await apps.stop(repo, fresh.id).catch((err: unknown) => ctx.log('error', `could not stop the new instance: ${errorMessage(err)}`));
  }
}

/** What a revert needs of its gate. */
interface Revert {
  ctx: JobContext;
  l: Layout;
  g: GoLive;
  apps: ProxiedApps;
  /** The instance live before the gate began (a resumed gate: one of the release under test). */
  old: InstanceInfo | null;
  /** The gate's new instance (stopped by the caller after the revert). */
  fresh: InstanceInfo | null;
  start(release: string, sha: string, previousSha: string | null, c: JobContext): Promise<InstanceInfo>;
  settle(port: number): (s: AbortSignal) => Promise<unknown>;
}

/** Routes back to the old instance (started again when it has gone) and points `current` back. */
async function swapBack({ ctx, l, g, apps, old, fresh, start, settle }: Revert): Promise<void> {
  const deploy = ctx.repo.deploy!;
  ctx.log('step', `revert: route back to releases/${g.previous ?? '?'}`);
  // The revert runs even when the job was aborted: no app at all is worse than the old one.
  const signal = AbortSignal.timeout(Math.max(60_000, deploy.health?.timeout ?? 0, deploy.min_uptime * 2));
  // A resumed gate's old instance runs the very release that failed: never one to go back to.
  const sameRelease = old !== null && old.release === g.release;
  try {
    let back = old && !sameRelease ? (await apps.instances(ctx.repo.name)).find((i) => i.id === old.id && i.state !== 'stopped' && i.state !== 'crashed') : undefined;
    if (!back && g.previous !== null && g.previous !== g.release) {
      ctx.log('info', `the old instance is gone: starting releases/${g.previous} again`);
      back = await start(g.previous, g.previousSha ?? '', g.sha, { ...ctx, signal });
      await whileUp(apps, back.id, signal, 'after the revert', settle(back.port));
    }
    if (!back && sameRelease) {
      ctx.log('error', 'there is no previous release to go back to; the release serves on');
      return;
    }
    // What serves now may be neither ours nor the old one: a runtime that died and was
    // replaced meanwhile got `current` started in it by serve. It goes once the route moves.
    const routedNow = await apps.live(ctx.repo.name);
    await apps.route(ctx.repo, back?.id ?? null);
    if (g.previous !== null && g.previous !== g.release) switchCurrent(l, g.previous);
    const leftover = new Set([sameRelease ? old?.id : undefined, routedNow?.id]);
    for (const id of [back?.id, fresh?.id, undefined]) leftover.delete(id);
    for (const id of leftover) await apps.retire(ctx.repo, id!).catch((err: unknown) => ctx.log('error', `could not retire ${id}: ${errorMessage(err)}`));
  } catch (err) {
    ctx.log('error', `the previous release could not be put back: ${errorMessage(err)}`);
  }
}

/**
 * Waits for `fn` while instance `id` runs; its exit fails the wait. So does the loss of the
 * runtime, as `runtime_lost`: the app went down with it, which says nothing about the commit,
 * so it must not be marked bad.
 */
async function whileUp<T>(apps: ProxiedApps, id: string, signal: AbortSignal, when: string, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const offs: (() => void)[] = [];
  const exited = new Promise<never>((_, reject) => {
    offs.push(
      apps.onEvent((e: RuntimeEvent) => {
        if (e.event !== 'exit' || e.id !== id) return;
        reject(new Error(`the app exited ${when}: ${e.signal ? `killed by ${e.signal}` : `exit ${e.code}`} after ${formatMs(e.uptimeMs)}`));
      }),
      apps.onLost(() => reject(new JobFailure('runtime_lost', `the runtime went away ${when}; the release is not judged (a new runtime is started)`))),
    );
  });
  exited.catch(() => undefined);
  try {
    return await Promise.race([fn(AbortSignal.any([signal, ac.signal])), exited]);
  } finally {
    for (const off of offs) off();
    ac.abort();
  }
}

/** The repo's health check on an instance's own port, or null when it has none. */
function healthOn(ctx: JobContext, port: number): HealthTarget | null {
  const h = ctx.repo.deploy?.health;
  const url = h ? healthUrl(h.url, port) : null;
  return url && h ? { url, timeoutMs: h.timeout, intervalMs: h.interval } : null;
}
