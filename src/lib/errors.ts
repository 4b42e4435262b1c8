/**
 * The one registry of coded errors. Each code is the string the HTTP API answers with
 * (`{"ok": false, "error": code}`) and carries its status. Anything thrown that is not an
 * AppError is a fault of autopull itself and becomes a 500 `internal`.
 */
export const ERROR_STATUS = {
  malformed_body: 400,
  no_push_data: 400,
  unknown_sender: 400,
  bad_request: 400,
  signature_missing: 401,
  token_missing: 401,
  unauthorized: 401,
  signature_mismatch: 403,
  token_mismatch: 403,
  ip_not_allowed: 403,
  forbidden: 403,
  unknown_repo: 404,
  no_matching_repo: 404,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  body_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  bad_gateway: 502,
  overloaded: 503,
  unavailable: 503,
  gateway_timeout: 504,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
  }
}

/** A mistake in how a command was called: the CLI exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Every problem found in a config file, each as `dotted.path: message`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  readonly file: string;
  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.file = file;
    this.problems = problems;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The reason a job is aborted when autopull stops: the job is queued again, not failed. */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
  constructor() {
    super('autopull is stopping');
  }
}

/**
 * Thrown into a job whose lease was lost: another process has taken its work over. Like a
 * stop, it is no verdict: the job undoes nothing (the new owner runs the work again).
 */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * Why a job did not do what it was for, stored with the job (`jobs.failure`) and read by the
 * CLI's exit codes and the API instead of its free-text reason. Each names the step that failed.
 */
export const JOB_FAILURES = {
  fetch_failed: 'fetching from the configured remote failed',
  ref_not_found: 'the ref to deploy does not exist on the remote',
  checkout_failed: 'the commit could not be written into a new release folder',
  shared_failed: 'a shared entry could not be linked into the release',
  build_failed: 'a build command failed',
  start_failed: 'the supervised app could not be started',
  port_in_use: "a process autopull did not start listens on the supervised app's port",
  restart_failed: 'the restart command failed',
  unhealthy: 'the new release never passed its health check',
  probation_failed: 'the new release failed in probation (crash or failed health check)',
  runtime_lost: "autopull's runtime (the proxy and the apps behind it) went away while the release was checked: no verdict on the commit",
  no_rollback_target: 'there is no good release to roll back to',
  nothing_to_restart: 'the repo has no supervised app, or no live release whose app could be restarted',
  needs_server: 'the job needs the running server (a supervised app)',
  mirror_failed: 'a mirror target did not take every ref (a retry is scheduled)',
  mirror_diverged: 'a mirror target has diverged refs and force is off',
  timeout: 'the job ran longer than deploy.timeout',
  interrupted: 'autopull stopped while the job ran; it was queued again',
  repo_removed: 'the repo is no longer in the config',
  internal: 'a fault of autopull itself; see its log',
} as const satisfies Record<string, string>;

export type JobFailureCode = keyof typeof JOB_FAILURES;

/** A job step's failure with its code: the worker stores the code with the job. */
export class JobFailure extends Error {
  override name = 'JobFailure';
  readonly code: JobFailureCode;
  constructor(code: JobFailureCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The code of any error a job ended with: a JobFailure's own, else `internal`. */
export function failureCode(err: unknown): JobFailureCode {
  return err instanceof JobFailure ? err.code : 'internal';
}
