import { mkdirSync, writeFileSync } from 'node:fs';

/** Writes a benchmark's report to docs/NAME and prints it. */
export function writeReport(name: string, lines: readonly string[]): void {
  const text = lines.join('\n');
  mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../docs/${name}`, import.meta.url), text);
  console.log(text);
}

/** Runs a benchmark's main, then its cleanups in reverse order, whatever happened. */
export async function runBench(main: () => Promise<void>, cleanups: (() => unknown)[]): Promise<void> {
  try {
    await main();
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}
