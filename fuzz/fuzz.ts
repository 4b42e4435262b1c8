import { plan, type Plan } from './deliveries.js';
import { Rng } from './prng.js';
import { BODY_LIMIT, startServer, type Server } from './server.js';
import { keepAliveAgent, send, type Answer } from './wire.js';

/**
 * The fuzz run: start the built server, send `count` generated deliveries across every sender
 * (valid and spoiled bodies, headers, credentials, sizes, framing) from `concurrency`
 * connections, and check what must hold whatever comes in: no 5xx, the server alive (same
 * pid, /healthz answering), no job from a delivery whose credential was wrong, every clean
 * tracked push queued, memory flat. Bounded by count and by `timeLimitMs`.
 */

export interface FuzzOptions {
  count: number;
  seed: number;
  concurrency: number;
  timeLimitMs: number;
  /** Only these delivery indexes (to reproduce a failure). */
  only?: number[];
  /** End RSS may exceed the RSS after warm-up by this much. */
  rssSlackKiB: number;
  /** Another build's CLI (to see the fuzzer catch a deliberately broken one). */
  cli?: string;
  /** More top-level YAML for the server's config. */
  configExtra?: string;
  log?: (line: string) => void;
}

export interface Failure {
  index: number;
  what: string;
}

export interface Summary {
  seed: number;
  sent: number;
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
  categories: Record<string, number>;
  rssWarmKiB: number;
  rssEndKiB: number;
  rssMaxKiB: number;
  nonJson: number;
  jobsLinked: number;
  failures: Failure[];
  stoppedByTime: boolean;
}

const count = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

function check(p: Plan, answers: Answer[], owed: number, s: Summary): void {
  for (const a of answers) {
    count(s.statuses, String(a.status));
    if (a.retried) count(s.statuses, 'sent again after a reset');
    if (typeof a.status === 'number' && a.status >= 500) s.failures.push({ index: p.index, what: `${p.category} (${p.sender}) answered ${a.status}` });
    if (typeof a.status === 'number' && !a.json) {
      s.nonJson++;
      count(s.statuses, `non-json ${a.status} ${p.category}`);
    }
    if (a.status === 'timeout') s.failures.push({ index: p.index, what: `${p.category} (${p.sender}) got no answer in time` });
  }
  if (owed > 0 && answers.every((a) => typeof a.status !== 'number') && p.wire !== 'http') {
    // A complete request on an open connection is owed an answer (the server may close after one).
    if (p.wire !== 'pipeline') s.failures.push({ index: p.index, what: `${p.category} (${p.sender}): a complete request got no answer (${String(answers[0]?.status)})` });
  }
  const first = answers[0];
  // Sent again after a reset, a push the server had taken before the reset is a duplicate.
  const queued = first?.status === 202 || first?.status === 429 || (first?.retried === true && first.outcome === 'duplicate');
  if (p.mustQueue && !queued) s.failures.push({ index: p.index, what: `a clean push to a tracked branch (${p.sender}) was answered ${String(first?.status)}${first?.retried ? ' (sent again after a reset)' : ''}, not 202` });
}

export async function runFuzz(o: FuzzOptions): Promise<Summary> {
  const log = o.log ?? (() => {});
  const server = await startServer(o.cli, o.configExtra);
  const s: Summary = { seed: o.seed, sent: 0, requests: 0, seconds: 0, statuses: {}, categories: {}, rssWarmKiB: 0, rssEndKiB: 0, rssMaxKiB: 0, nonJson: 0, jobsLinked: 0, failures: [], stoppedByTime: false };
  const authentic = new Map<string, boolean>();
  try {
    await drive(server, o, s, authentic, log);
    endChecks(server, s, authentic, o);
    const health = await server.healthz().catch((err: unknown) => String(err));
    if (health !== 200) s.failures.push({ index: -1, what: `GET /healthz at the end answered ${health}` });
    const links = server.jobDeliveries();
    s.jobsLinked = new Set(links.map((l) => l.fuzzId)).size;
    for (const row of links) {
      if (row.fuzzId === null) s.failures.push({ index: -1, what: 'a job is linked to a delivery the fuzzer did not send' });
      else if (authentic.get(row.fuzzId) !== true) s.failures.push({ index: Number(row.fuzzId.split('.')[0]), what: `delivery ${row.fuzzId}, sent with a wrong credential, made a job` });
      // The fuzz repos track main and v* tags only.
      if (row.ref !== 'refs/heads/main' && !/^refs\/tags\/v/.test(row.ref ?? '')) s.failures.push({ index: Number(row.fuzzId?.split('.')[0] ?? -1), what: `delivery ${row.fuzzId} made a job for ${row.ref}, a ref no repo tracks` });
    }
  } finally {
    await server.stop();
  }
  return s;
}

async function drive(server: Server, o: FuzzOptions, s: Summary, authentic: Map<string, boolean>, log: (l: string) => void): Promise<void> {
  const agent = keepAliveAgent(o.concurrency);
  const indexes = o.only ?? Array.from({ length: o.count }, (_, i) => i);
  // Warm-up: caches, V8's heap and SQLite's pages grow to their working size over the first thousand or so.
  const warmAt = Math.min(indexes.length - 1, Math.max(1000, Math.floor(indexes.length * 0.1)));
  const start = Date.now();
  let next = 0;
  let lastLog = start;
  const sampler = setInterval(() => (s.rssMaxKiB = Math.max(s.rssMaxKiB, server.rssKiB())), 500);
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= indexes.length || s.failures.length >= 50 || server.exited() !== null) return;
      if (Date.now() - start > o.timeLimitMs) return void (s.stoppedByTime = true);
      const p = plan(o.seed, indexes[i] as number, { remotes: server.remotes, bodyLimit: BODY_LIMIT });
      for (const r of p.requests) authentic.set(r.fuzzId, r.auth);
      count(s.categories, p.category.split(':')[0] as string);
      const rng = new Rng(o.seed ^ 0x5bd1e995, indexes[i] as number);
      const sent = await send(server.port, p, agent, () => rng.next() / 0x1_0000_0000);
      check(p, sent.answers, sent.owed, s);
      s.sent++;
      s.requests += p.requests.length;
      if (s.sent === warmAt + 1) s.rssWarmKiB = server.rssKiB();
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`  ${s.sent}/${indexes.length} sent, ${Math.round(s.sent / ((Date.now() - start) / 1000))}/s, RSS ${Math.round(server.rssKiB() / 1024)} MiB`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
  s.seconds = (Date.now() - start) / 1000;
}

function endChecks(server: Server, s: Summary, _authentic: Map<string, boolean>, o: FuzzOptions): void {
  const exited = server.exited();
  if (exited !== null) {
    s.failures.push({ index: -1, what: `the server ${exited}` });
    return;
  }
  s.rssEndKiB = server.rssKiB();
  s.rssMaxKiB = Math.max(s.rssMaxKiB, s.rssEndKiB);
  if (s.rssWarmKiB > 0 && s.rssEndKiB > s.rssWarmKiB + o.rssSlackKiB) {
    s.failures.push({ index: -1, what: `RSS grew from ${Math.round(s.rssWarmKiB / 1024)} MiB after warm-up to ${Math.round(s.rssEndKiB / 1024)} MiB (more than ${Math.round(o.rssSlackKiB / 1024)} MiB)` });
  }
}

export function formatSummary(s: Summary): string {
  const hist = Object.entries(s.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const cats = Object.entries(s.categories)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `fuzz seed ${s.seed}: ${s.sent} deliveries (${s.requests} requests) in ${s.seconds.toFixed(1)} s, ${Math.round(s.sent / Math.max(s.seconds, 0.001))} deliveries/s${s.stoppedByTime ? ' (stopped by the time limit)' : ''}`,
    `  kinds: ${cats}`,
    `  answers: ${hist}`,
    `  answers that are not JSON: ${s.nonJson}`,
    `  deliveries linked to jobs: ${s.jobsLinked}`,
    `  RSS: ${Math.round(s.rssWarmKiB / 1024)} MiB after warm-up, ${Math.round(s.rssEndKiB / 1024)} MiB at the end, ${Math.round(s.rssMaxKiB / 1024)} MiB at most`,
    s.failures.length === 0 ? '  OK: no 5xx, server alive, no job without valid auth, memory flat' : `  FAILED (${s.failures.length}):`,
    ...s.failures.slice(0, 20).map((f) => `    ${f.index >= 0 ? `#${f.index}: ` : ''}${f.what}${f.index >= 0 ? `  (reproduce: npm run fuzz -- --seed ${s.seed} --only ${f.index})` : ''}`),
  ];
  return lines.join('\n');
}
