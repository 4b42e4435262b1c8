import { JobFailure, type JobFailureCode } from './errors.js';
import { formatMs } from './exec.js';

/** What a job step reports to: its log, and the job's abort signal. */
export interface StepReporter {
  signal: AbortSignal;
  log(stream: 'step' | 'info' | 'out' | 'err' | 'error', line: string): void;
}

/**
 * Runs one named step: logged when it starts and with its duration when it ends. With a
 * `code`, whatever the step throws becomes a JobFailure with that code (a JobFailure thrown
 * inside keeps its own), so the job records which step failed and why.
 */
export async function step<T>(r: StepReporter, name: string, fn: () => Promise<T> | T, code?: JobFailureCode): Promise<T> {
  const started = Date.now();
  r.log('step', name);
  if (r.signal.aborted) throw abortError(r.signal);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    if (code === undefined || err instanceof JobFailure || r.signal.aborted) throw err;
    throw new JobFailure(code, err instanceof Error ? err.message : String(err), { cause: err });
  }
  r.log('info', stepDoneLine(name, Date.now() - started));
  return result;
}

/**
 * The log line that ends a step that did its work. A step line (stream `step`) starts each
 * step; the metrics time steps from these two lines (metrics/steps.ts), so the wording is here.
 */
export function stepDoneLine(name: string, ms: number): string {
  return `${name}: done in ${formatMs(ms)}`;
}

/** Whether `line` (stream `info`) is the line that ends step `name`. */
export function isStepDoneLine(line: string, name: string): boolean {
  return line.startsWith(`${name}: done in `);
}

export function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
}
