import { Target, type DrainResult, type TargetSpec, type UpstreamOptions } from './target.js';

const NOTHING: DrainResult = { id: null, outcome: 'none', closed: { requests: 0, sockets: 0 } };

function checkSpec(spec: TargetSpec | null, drainMs: number): void {
  if (!Number.isFinite(drainMs) || drainMs < 0) throw new TypeError(`route(): drainMs must be a number of milliseconds >= 0, not ${String(drainMs)}`);
  if (spec === null) return;
  if (typeof spec.id !== 'string' || spec.id === '') throw new TypeError('route(): target.id must be a non-empty string');
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw new TypeError(`route(): target.port must be a port number, not ${String(spec.port)}`);
}

/**
 * The routing table: the current target, and the previous ones while they drain. The swap is
 * one assignment, so a request is sent where `current` pointed when it arrived; traffic
 * routed back to a target still draining (a revert in probation) reuses it and its pool.
 */
export class Routing {
  private current: Target | null = null;
  private readonly targets = new Map<string, Target>();

  constructor(private readonly upstream: UpstreamOptions) {}

  now(): Target | null {
    return this.current;
  }

  route(spec: TargetSpec | null, drainMs: number): Promise<DrainResult> {
    checkSpec(spec, drainMs);
    const prev = this.current;
    if (spec && prev && spec.id === prev.id) {
      if (spec.port !== prev.port) throw new TypeError(`route(): target ${spec.id} is routed on port ${prev.port}, not ${spec.port}`);
      return Promise.resolve(NOTHING);
    }
    this.current = spec ? this.take(spec) : null;
    if (!prev) return Promise.resolve(NOTHING);
    return prev.drain(drainMs).then((r) => {
      if (r.outcome !== 'rerouted' && this.targets.get(prev.id) === prev) this.targets.delete(prev.id);
      return r;
    });
  }

  /** The Target for `spec`: the one still draining under that id and port, else a new one. */
  private take(spec: TargetSpec): Target {
    const known = this.targets.get(spec.id);
    if (known && !known.closing && known.port === spec.port) {
      known.undrain();
      return known;
    }
    // One already closing finishes on its own, outside the map.
    const fresh = new Target(spec, this.upstream);
    this.targets.set(spec.id, fresh);
    return fresh;
  }

  open(id: string): { requests: number; sockets: number } {
    return this.targets.get(id)?.open() ?? { requests: 0, sockets: 0 };
  }

  /** No target any more; every one, current or draining, closes what it has open now. */
  async closeAll(reason: string): Promise<void> {
    const all = [...this.targets.values()];
    this.current = null;
    await Promise.all(all.map((t) => (t.isDraining ? t.cutDrain(reason) : t.closeAll(reason).then(() => undefined))));
    this.targets.clear();
  }
}
