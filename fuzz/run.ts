// npm run fuzz [-- --count N --seed S --only I,J --concurrency C --time-limit SECONDS --cli PATH]
// Sends N generated deliveries (default 100,000) across every sender to the built server on
// 127.0.0.1 and checks: no 5xx, no crash, no job from a delivery with a wrong credential,
// memory flat. Prints a summary; exits 1 on a failure, naming the seed and the delivery that
// reproduces it.
import { resolve } from 'node:path';
import { formatSummary, runFuzz } from './fuzz.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

function int(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, not "${v}"`);
  return n;
}

const only = arg('only')
  ?.split(',')
  .map((x) => Number(x))
  .filter((n) => Number.isInteger(n) && n >= 0);
const seed = int('seed', Math.floor(Math.random() * 0x7fffffff));
const opts = {
  count: int('count', 100_000),
  seed,
  concurrency: Math.max(1, int('concurrency', 16)),
  timeLimitMs: int('time-limit', 1800) * 1000,
  only,
  rssSlackKiB: int('rss-slack-mib', 64) * 1024,
  cli: arg('cli') === undefined ? undefined : resolve(arg('cli') as string),
  log: (l: string) => console.log(l),
};
console.log(`fuzz: ${only ? `deliveries ${only.join(',')}` : `${opts.count} deliveries`}, seed ${seed}, ${opts.concurrency} connections`);
const summary = await runFuzz(opts);
console.log(formatSummary(summary));
process.exitCode = summary.failures.length === 0 ? 0 : 1;
