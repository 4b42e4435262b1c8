import type { Config } from '../config/load.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Apps } from '../deploy/apps.js';
import type { EventOptions } from './events/event-hub.js';

/** What the HTTP app needs from the daemon: every route plugin receives this and nothing else. */
export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  /** Called after a transaction queued jobs for these repos. */
  kick(repo: string): void;
  /** Extra bearer tokens accepted by the API (the local token file). */
  apiTokens: string[];
  now?: () => Date;
  /** The server's metrics (fed by its apps too); when absent, the app makes its own from the store. */
  metrics?: Metrics;
  /** The server's supervised apps (their state for /api/apps); when absent, read from the data_dir like a CLI with no server. */
  apps?: Apps;
  /** Limits of the event streams (GET /api/events, /api/jobs/:id/events) other than the defaults: for tests. */
  events?: Partial<EventOptions>;
}

/** The tokens the API and the dashboard's login take now: auth_token (read on each call: a reload may change it) and the local token. */
export function acceptedTokens(deps: AppDeps): string[] {
  return [deps.config.auth_token, ...deps.apiTokens].filter((t): t is string => typeof t === 'string' && t.length > 0);
}
