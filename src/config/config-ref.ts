import { EventEmitter } from 'node:events';
import type { Config } from './load.js';

/**
 * The config a running server acts on now. A reload (SIGHUP, a change of the file) swaps
 * `current` and emits `change` (next, previous); whoever must act on a change (the poller,
 * the proxies, the notifier) listens. Everything else reads `current` when it starts a piece
 * of work: a job reads it once when it is claimed and keeps that config to its end, so a
 * reload never changes a running job.
 */
export class ConfigRef extends EventEmitter<{ change: [next: Config, previous: Config] }> {
  private value: Config;

  constructor(config: Config) {
    super();
    this.value = config;
  }

  get current(): Config {
    return this.value;
  }

  set(next: Config): void {
    const previous = this.value;
    this.value = next;
    this.emit('change', next, previous);
  }

  /** A ConfigRef as it is, a plain config wrapped (in-process CLI runs and tests never reload). */
  static of(source: Config | ConfigRef): ConfigRef {
    return source instanceof ConfigRef ? source : new ConfigRef(source);
  }
}
