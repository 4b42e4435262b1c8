import type { AppDeps } from '../deps.js';
import type { LoginLimiter, Sessions } from './sessions.js';
import type { LoginLinks } from './login-links.js';

/**
 * What the dashboard's routes get: the app's deps (kept as they are: `deps.config` is read on
 * each request, since a reload replaces it), the sessions and the login limiter.
 */
export interface DashboardOptions {
  deps: AppDeps;
  sessions: Sessions;
  limiter: LoginLimiter;
  links: LoginLinks;
}
