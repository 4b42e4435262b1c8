import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { loadConfig, type Config } from '../config/load.js';
import type { ConfigRef } from '../config/config-ref.js';
import type { TlsFiles } from '../config/tls-files.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';

/** Keys the HTTP server takes when it is made: a reload that changes them says they wait for a restart. */
const AT_RESTART = ['listen', 'limits', 'body_limit', 'trust_proxy'] as const;

/** What a reload may change on the running HTTP server. */
export interface ReloadTarget {
  /** Whether it speaks HTTPS (decided at start). */
  tls: boolean;
  /** Gives new connections this certificate and key; open ones keep theirs. */
  setSecureContext(files: TlsFiles): void;
}

function hashOf(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

/**
 * Reloads the config file (SIGHUP, or a change of the file seen by `watch`): the file is read
 * and validated whole, secret_file and the TLS files read again; a config with any problem
 * is refused, every problem logged, and the running one kept. A valid one replaces
 * `ref.current` (ConfigRef's `change` tells those that act on it); running jobs keep the
 * config they started with. A reload is synchronous, so two never interleave.
 */
export class Reloader {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastHash: string | null;

  constructor(
    private readonly ref: ConfigRef,
    private readonly logger: Logger,
    private readonly target: ReloadTarget,
    private readonly debounceMs = 200,
  ) {
    this.lastHash = hashOf(ref.current.file);
  }

  /** Returns whether the new config is now in force. */
  reload(reason: string): boolean {
    const previous = this.ref.current;
    const file = previous.file;
    this.lastHash = hashOf(file);
    let next: Config;
    try {
      next = loadConfig(file);
      this.check(next, previous);
      if (next.tlsFiles && this.target.tls) this.target.setSecureContext(next.tlsFiles);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [errorMessage(err)];
      for (const problem of problems) this.logger.error({ reason, problem }, `config reload refused: ${problem}`);
      this.logger.error({ reason, file, problems: problems.length }, `config reload (${reason}) refused: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${file}; the running config is kept`);
      return false;
    }
    for (const key of AT_RESTART) {
      if (JSON.stringify(next[key]) !== JSON.stringify(previous[key])) {
        this.logger.warn({ reason, key }, `config reload: ${key} changed; it takes effect at the next restart of autopull (the server keeps the one it started with)`);
      }
    }
    this.ref.set(next);
    const added = [...next.repos.keys()].filter((r) => !previous.repos.has(r));
    const removed = [...previous.repos.keys()].filter((r) => !next.repos.has(r));
    this.logger.info(
      { reason, file, repos: [...next.repos.keys()], added, removed, ...(next.tlsFiles ? { tls_cert: next.tlsFiles.fingerprint256, tls_valid_to: next.tlsFiles.validTo } : {}) },
      `config reloaded (${reason})${added.length ? `; added ${added.join(', ')}` : ''}${removed.length ? `; removed ${removed.join(', ')} (no new jobs; what runs goes on)` : ''}`,
    );
    return true;
  }

  /** What a valid file still cannot change in a running server. */
  private check(next: Config, previous: Config): void {
    const problems: string[] = [];
    if (next.data_dir !== previous.data_dir) {
      problems.push(`data_dir: changed from ${previous.data_dir} to ${next.data_dir}: a running server keeps its data_dir (database, caches, runtime); restart autopull to move to another`);
    }
    if (Boolean(next.tls) !== this.target.tls) {
      problems.push(`tls: ${next.tls ? 'added' : 'removed'}: switching between HTTP and HTTPS needs a restart of autopull`);
    }
    if (problems.length > 0) throw new ConfigError(next.file, problems);
  }

  /**
   * Reloads when the file's content changes: the file and its folder are watched (an editor
   * or a config tool often replaces the file by a rename, which only the folder sees), events
   * are debounced, and a change that leaves the bytes as they were is ignored.
   */
  watch(): void {
    const file = this.ref.current.file;
    const onEvent = (name: string | null) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.fileChanged(file), this.debounceMs);
      this.timer.unref();
    };
    for (const [path, named] of [[file, false], [dirname(file), true]] as const) {
      try {
        const w = watch(path, { persistent: false }, (_event, name) => onEvent(named ? (name?.toString() ?? null) : null));
        w.on('error', (err) => this.logger.warn(`watching ${path} for config changes stopped: ${errorMessage(err)}; SIGHUP still reloads`));
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn(`cannot watch ${path} for config changes (${errorMessage(err)}); SIGHUP still reloads`);
      }
    }
  }

  private fileChanged(file: string): void {
    const hash = hashOf(file);
    // Gone for a moment (replaced by a rename), or unchanged: the next event says more.
    if (hash === null || hash === this.lastHash) return;
    this.reload('file change');
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
