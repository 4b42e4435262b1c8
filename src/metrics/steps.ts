import { isStepDoneLine } from '../lib/step.js';
import type { LogLine } from '../store/store.js';

export interface StepEnd {
  job: number;
  name: string;
  seconds: number;
  ok: boolean;
}

/**
 * Times the steps of jobs from their log lines (lib/step.ts): a line on stream `step` starts
 * a step, its `NAME: done in ...` line ends it with success; a step still open when its job
 * ends failed (it threw). Steps may nest (a step inside a step): the done line closes the
 * innermost open step of that name. Times are this process's clock between the two lines.
 */
export class StepTimer {
  private open = new Map<number, { name: string; started: number }[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Returns the step this line ended, if any. */
  line(l: Pick<LogLine, 'job_id' | 'stream' | 'line'>): StepEnd | null {
    if (l.stream === 'step') {
      const stack = this.open.get(l.job_id) ?? [];
      stack.push({ name: l.line, started: this.now() });
      this.open.set(l.job_id, stack);
      return null;
    }
    if (l.stream !== 'info') return null;
    const stack = this.open.get(l.job_id);
    if (!stack) return null;
    for (let i = stack.length - 1; i >= 0; i--) {
      const s = stack[i] as { name: string; started: number };
      if (!isStepDoneLine(l.line, s.name)) continue;
      stack.splice(i, 1);
      if (stack.length === 0) this.open.delete(l.job_id);
      return { job: l.job_id, name: s.name, seconds: (this.now() - s.started) / 1000, ok: true };
    }
    return null;
  }

  /** The job ended: every step still open failed. */
  jobEnded(job: number): StepEnd[] {
    const stack = this.open.get(job) ?? [];
    this.open.delete(job);
    const now = this.now();
    return stack.map((s) => ({ job, name: s.name, seconds: (now - s.started) / 1000, ok: false }));
  }
}
