import { setFlagsFromString } from 'node:v8';

/** V8's own default (`node --v8-options`: --semi-space-growth-factor=2, in Node 20, 22 and 24). */
const V8_DEFAULT_GROWTH = 2;

/** Whoever runs node chose the young generation's sizes themselves: theirs win. */
function chosenByUser(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /semi[-_]space/.test(a));
}

let held = false;

/**
 * Keeps V8's young generation at its first size (1 MiB semi-spaces) while `serve` starts.
 * Loading the modules allocates a burst that grows it to 16 MiB, which then stays committed
 * for an idle server: ~10 MiB of idle RSS for nothing. `--max-semi-space-size` cannot be set
 * from inside (the heap is sized when node starts) and would cap it under load too, which
 * costs CPU there; the growth factor is read at each growth, so it can be set now and given
 * back (releaseYoungGeneration) once the server listens: it then grows under load as it did.
 */
export function holdYoungGeneration(): void {
  if (held || chosenByUser()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Lets the young generation grow again (after holdYoungGeneration; else nothing). */
export function releaseYoungGeneration(): void {
  if (!held) return;
  setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  held = false;
}
