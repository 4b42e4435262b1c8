import { z } from '../lib/zod.js';
import type { Config } from '../config/load.js';
import { AppError } from '../lib/errors.js';
import { FINAL_STATES, type Job, type JobState, type Store } from '../store/store.js';

/** Every job state, in the order a job goes through them. */
export const JOB_STATES: readonly JobState[] = ['queued', 'running', ...FINAL_STATES];
export const JOBS_DEFAULT_LIMIT = 50;
export const JOBS_MAX_LIMIT = 1000;

export interface JobFilter {
  repo?: string;
  /** Any of these states; all when absent. */
  states?: JobState[];
  limit: number;
}

/**
 * The filter of `autopull jobs` and `GET /api/jobs`, from text as a user typed it (query
 * string or options): `state` a comma-separated list of job states, `limit` 1 to 1000.
 * Returns every problem, each naming the parameter and the value.
 */
export const jobFilterSchema = z.strictObject({
  repo: z.string().min(1, 'must not be empty').max(100, 'is too long').optional(),
  state: z
    .string()
    .max(200, 'is too long')
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const states = s.split(',').map((x) => x.trim());
      for (const st of states) {
        if (!(JOB_STATES as readonly string[]).includes(st)) {
          ctx.addIssue({ code: 'custom', message: `"${st.slice(0, 40)}" is not a job state (one of ${JOB_STATES.join(', ')}; several with commas)` });
          return z.NEVER;
        }
      }
      return [...new Set(states)] as JobState[];
    }),
  limit: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return JOBS_DEFAULT_LIMIT;
      const n = /^\d{1,7}$/.test(s) ? Number(s) : NaN;
      if (!(n >= 1 && n <= JOBS_MAX_LIMIT)) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${JOBS_MAX_LIMIT}, not "${s.slice(0, 40)}"` });
        return z.NEVER;
      }
      return n;
    }),
});

/** Parses a job filter; `{ problems }` lists each problem as `name: message`. */
export function parseJobFilter(input: unknown): { filter: JobFilter } | { problems: string[] } {
  const parsed = jobFilterSchema.safeParse(input);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`) };
  }
  const { repo, state, limit } = parsed.data;
  return { filter: { ...(repo !== undefined ? { repo } : {}), ...(state !== undefined ? { states: state } : {}), limit } };
}

/** A configured repo, or the 404 that names it. */
export function requireRepo(config: Config, repo: string): void {
  if (!config.repos.has(repo as never)) throw new AppError('unknown_repo', `no repo named "${repo.slice(0, 100)}" is configured (known: ${[...config.repos.keys()].join(', ')})`);
}

/** The job history, newest first: what `autopull jobs` and `GET /api/jobs` show. */
export function jobHistory(config: Config, store: Store, filter: JobFilter): Job[] {
  if (filter.repo !== undefined) requireRepo(config, filter.repo);
  return store.listJobs({ repo: filter.repo, states: filter.states, limit: filter.limit });
}
