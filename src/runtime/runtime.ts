import { errorMessage } from '../lib/errors.js';
import { processStartTime } from '../lib/proc.js';
import { ControlError, type Handlers } from './control.js';
import { freePort } from './free-port.js';
import { Instance, type InstanceExit } from './instance.js';
import type { InstanceInfo, InstanceSpec, ProxyInfo, RuntimeEvent, RuntimeStatus, TrustSetting } from './protocol.js';
import { PROTOCOL_VERSION } from './protocol.js';

// Where the runtime keeps its files: in paths.ts, which serve loads without the runtime itself.
export { MAX_SOCKET_PATH, runtimePaths, socketPathProblem } from './paths.js';

/** What the runtime needs of a proxy (src/proxy): one listener, one target at a time. */
export interface ProxyEngine {
  listen(host: string, port: number): Promise<{ address: string; port: number }>;
  route(target: { id: string; port: number } | null, opts: { drainMs: number }): { drained: Promise<unknown> };
  open(id: string): { requests: number; sockets: number };
  setTrustProxy(trust: TrustSetting): void;
  close(): Promise<void>;
}

export type MakeProxy = (opts: { trustProxy: TrustSetting }) => ProxyEngine;

interface RepoProxy {
  engine: ProxyEngine;
  listen: string;
  /** The host and port serve asked for (port 0: any). */
  asked: string;
  key: string;
  target: string | null;
  /**
   * The instance routed before `target`, while it still runs (until it is retired): if the
   * target dies (a crash in probation), traffic goes straight back to it, before serve's
   * gate has even heard of the exit.
   */
  fallback: string | null;
}

/**
 * The runtime's state: each repo's proxy and the app instances. Nothing here reads the
 * config: `autopull serve` says what to listen on, what to start and where to route, so a
 * reload or a restart of serve changes nothing that runs until serve asks.
 */
export class Runtime {
  private readonly proxies = new Map<string, RepoProxy>();
  private readonly instances = new Map<string, Instance>();
  /** Per instance routed away from: resolves when what it had open has ended or been closed. */
  private readonly drains = new Map<string, Promise<unknown>>();
  private seq = 0;
  readonly startedAt = new Date().toISOString();

  constructor(
    private readonly opts: {
      version: string;
      makeProxy: MakeProxy;
      emit(e: RuntimeEvent): void;
      log(level: 'info' | 'warn', msg: string): void;
      onShutdown(): void;
      /** Called with the running instances' processes after each change (for the next runtime, if this one is killed). */
      saveProcesses?(procs: { pid: number; start: string | null }[]): void;
    },
  ) {}

  /**
   * Records the app processes for the next runtime. It is called from exits, timers and
   * retires: a failed write (a full disk) is logged, never thrown, for a throw there would
   * end the runtime and every app behind its proxies.
   */
  private save(): void {
    const procs = [...this.instances.values()].flatMap((i) => (i.pid === null ? [] : [{ pid: i.pid, start: processStartTime(i.pid) }]));
    try {
      this.opts.saveProcesses?.(procs);
    } catch (err) {
      this.opts.log('warn', `could not record the app processes (a runtime started after this one dies would not stop them): ${errorMessage(err)}`);
    }
  }

  handlers(): Handlers {
    return {
      status: async () => this.status(),
      'proxy.listen': (a) => this.listen(a.repo, a.host, a.port, a.trustProxy),
      'proxy.close': async (a) => {
        await this.closeProxy(a.repo);
        return {};
      },
      'instance.start': (spec) => this.start(spec),
      'instance.stop': async (a) => {
        const inst = this.instance(a.id);
        if (inst.routed) throw new ControlError('routed', `instance ${a.id} serves ${inst.spec.repo}'s traffic: route elsewhere first`);
        await inst.stop(a.stopTimeoutMs);
        this.forget(inst);
        return this.info(inst);
      },
      route: async (a) => this.route(a.repo, a.id, a.drainMs),
      retire: async (a) => this.retire(a.id, a.stopTimeoutMs),
      shutdown: async () => {
        setImmediate(() => this.opts.onShutdown());
        return {};
      },
    };
  }

  status(): RuntimeStatus {
    return {
      version: this.opts.version,
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      started_at: this.startedAt,
      proxies: [...this.proxies.entries()].map(([repo, p]) => this.proxyInfo(repo, p)),
      instances: [...this.instances.values()].map((i) => this.info(i)),
    };
  }

  private proxyInfo(repo: string, p: RepoProxy): ProxyInfo {
    return { repo, listen: p.listen, target: p.target };
  }

  private info(inst: Instance): InstanceInfo {
    const p = this.proxies.get(inst.spec.repo);
    return inst.info(p ? p.engine.open(inst.id) : { requests: 0, sockets: 0 });
  }

  private instance(id: string): Instance {
    const inst = this.instances.get(id);
    if (!inst) throw new ControlError('unknown_instance', `no instance ${id}`);
    return inst;
  }

  private async listen(repo: string, host: string, port: number, trustProxy: TrustSetting): Promise<ProxyInfo> {
    const key = JSON.stringify({ host, port, trustProxy });
    const old = this.proxies.get(repo);
    if (old?.key === key) return this.proxyInfo(repo, old);
    // Only trust_proxy changed: a second listener on the same address could not bind.
    if (old && port !== 0 && old.asked === `${host} ${port}`) {
      old.engine.setTrustProxy(trustProxy);
      old.key = key;
      this.opts.log('info', `${repo}: proxy on ${old.listen} now trusts ${JSON.stringify(trustProxy)}`);
      return this.proxyInfo(repo, old);
    }
    const engine = this.opts.makeProxy({ trustProxy });
    let bound: { address: string; port: number };
    try {
      // A changed address: the new listener first (a busy port fails here, the old one serves on).
      bound = await engine.listen(host, port);
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw new ControlError('listen_failed', `cannot listen on ${host}:${port} for ${repo}: ${errorMessage(err)}`);
    }
    const p: RepoProxy = { engine, asked: `${host} ${port}`, listen: `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`, key, target: null, fallback: old?.fallback ?? null };
    if (old?.target) {
      const inst = this.instances.get(old.target);
      if (inst) engine.route({ id: inst.id, port: inst.port }, { drainMs: 0 });
      p.target = old.target;
    }
    this.proxies.set(repo, p);
    if (old) void old.engine.close();
    this.opts.log('info', `${repo}: proxy listening on ${p.listen}`);
    return this.proxyInfo(repo, p);
  }

  private async closeProxy(repo: string): Promise<void> {
    const p = this.proxies.get(repo);
    if (!p) return;
    this.proxies.delete(repo);
    await p.engine.close();
  }

  private async start(spec: InstanceSpec): Promise<InstanceInfo> {
    const port = spec.port ?? (await freePort());
    // The pid makes ids unique across runtimes: a serve still holding an id from a runtime that
    // died must never stop or retire the new runtime's instance of the same release.
    const id = `${spec.repo}/${spec.release}/${process.pid}.${++this.seq}`;
    const inst = new Instance(id, spec, port);
    inst.on('exit', (e: InstanceExit) => {
      const how = e.signal ? `killed by ${e.signal}` : `exit ${e.code}`;
      this.opts.log('warn', `${id} ended: ${how} after ${e.uptimeMs} ms${e.restarting ? '; restarting' : ''}`);
      this.failover(spec.repo, id);
      this.opts.emit({ event: 'exit', id, repo: spec.repo, code: e.code, signal: e.signal, uptimeMs: e.uptimeMs, crash: e.crash, restarting: e.restarting && inst.routed });
    });
    inst.on('crashed', () => this.opts.emit({ event: 'crashed', id, repo: spec.repo }));
    try {
      inst.start();
    } catch (err) {
      throw new ControlError('start_failed', `cannot start ${spec.command}: ${errorMessage(err)}`);
    }
    this.instances.set(id, inst);
    inst.on('spawn', () => this.save());
    this.save();
    this.opts.log('info', `${id} started (pid ${inst.pid}, port ${port})`);
    return this.info(inst);
  }

  private async route(repo: string, id: string | null, drainMs: number): Promise<ProxyInfo> {
    const p = this.proxies.get(repo);
    if (!p) throw new ControlError('no_proxy', `${repo} has no proxy listening`);
    const next = id === null ? null : this.instance(id);
    if (next && next.spec.repo !== repo) throw new ControlError('wrong_repo', `instance ${id} belongs to ${next.spec.repo}`);
    const before = p.target === null ? null : (this.instances.get(p.target) ?? null);
    const { drained } = p.engine.route(next ? { id: next.id, port: next.port } : null, { drainMs });
    p.target = next?.id ?? null;
    if (next) {
      next.routed = true;
      this.drains.delete(next.id);
    }
    if (before && before !== next) {
      before.routed = false;
      this.drains.set(before.id, drained);
    }
    p.fallback = before && before !== next ? before.id : p.fallback === next?.id ? null : p.fallback;
    return this.proxyInfo(repo, p);
  }

  /** The routed instance `id` died: traffic goes back to the repo's previous instance when it still runs. */
  private failover(repo: string, id: string): void {
    const p = this.proxies.get(repo);
    if (!p || p.target !== id || p.fallback === null) return;
    const back = this.instances.get(p.fallback);
    if (!back || back.state !== 'running') return;
    this.opts.log('warn', `${repo}: ${id} died while routed; traffic back to ${back.id} at once`);
    void this.route(repo, back.id, 0);
  }

  private async retire(id: string, stopTimeoutMs: number): Promise<InstanceInfo> {
    const inst = this.instance(id);
    if (inst.routed) throw new ControlError('routed', `instance ${id} serves ${inst.spec.repo}'s traffic: route elsewhere first`);
    inst.state = inst.state === 'running' ? 'draining' : inst.state;
    const drained = this.drains.get(id) ?? Promise.resolve();
    void (async () => {
      const result = await drained.catch(() => undefined);
      // Routed back meanwhile (a revert): it serves on.
      if (inst.routed) return;
      await inst.stop(stopTimeoutMs);
      this.forget(inst);
      const closed = (result as { closed?: { requests: number; sockets: number } } | undefined)?.closed;
      this.opts.emit({ event: 'retired', id, repo: inst.spec.repo, drained: (result as { outcome?: string } | undefined)?.outcome !== 'timeout', closed: closed ? closed.requests + closed.sockets : 0 });
    })();
    return this.info(inst);
  }

  private forget(inst: Instance): void {
    this.instances.delete(inst.id);
    this.save();
    this.drains.delete(inst.id);
    const p = this.proxies.get(inst.spec.repo);
    if (p?.fallback === inst.id) p.fallback = null;
  }

  /** Stops everything: proxies first (no new traffic), then every instance. */
  async shutdown(stopTimeoutMs = 10_000): Promise<void> {
    await Promise.allSettled([...this.proxies.keys()].map((r) => this.closeProxy(r)));
    await Promise.allSettled([...this.instances.values()].map((i) => i.stop(stopTimeoutMs)));
    this.instances.clear();
  }
}

/** Descriptors the runtime keeps for itself: its control socket and clients, app spawns and their logs, pools. */
export const RUNTIME_FD_RESERVE = 128;

/**
 * Client connections one proxy accepts at most: each costs two descriptors (the client's and
 * the app's), and a flood of them must leave the runtime descriptors to start and restart
 * apps. Half of what the open-file limit leaves after the reserve, at most 4096, at least 16.
 */
export function proxyConnectionCap(fdLimit: number): number {
  return Math.max(16, Math.min(4096, Math.floor((fdLimit - RUNTIME_FD_RESERVE) / 2)));
}
