import type { AppDeps } from '../deps.js';
import type { LoginLimiter, Sessions } from './sessions.js';

/** What the dashboard's routes get: the app's deps, the sessions and the login limiter. */
export interface DashboardOptions extends AppDeps {
  sessions: Sessions;
  limiter: LoginLimiter;
}
