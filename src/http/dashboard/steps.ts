import type { LogLine } from '../../store/store.js';

export interface StepView {
  name: string;
  /** The line that started it. */
  seq: number;
  state: 'done' | 'running' | 'failed';
  /** "1.2s" from its done line, or null. */
  took: string | null;
}

/**
 * A job's steps from its log (lib/step.ts writes them): a `step` line starts one, an `info`
 * line `NAME: done in TIME` ends it. A step still open when the job is final failed (the
 * step threw); while the job runs it is running. dashboard.js does the same for live lines.
 */
export function stepsOf(lines: readonly Pick<LogLine, 'seq' | 'stream' | 'line'>[], jobFinal: boolean): StepView[] {
  const steps: StepView[] = [];
  for (const l of lines) {
    if (l.stream === 'step') {
      steps.push({ name: l.line, seq: l.seq, state: 'running', took: null });
      continue;
    }
    if (l.stream !== 'info') continue;
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i] as StepView;
      const prefix = `${s.name}: done in `;
      if (s.state === 'running' && l.line.startsWith(prefix)) {
        s.state = 'done';
        s.took = l.line.slice(prefix.length);
        break;
      }
    }
  }
  if (jobFinal) for (const s of steps) if (s.state === 'running') s.state = 'failed';
  return steps;
}
