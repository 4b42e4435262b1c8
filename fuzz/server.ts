import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SENDERS } from './senders.js';

/**
 * The server under fuzz: the built CLI (`node dist/cli/main.js serve`) on 127.0.0.1 with a
 * temp config that has one repo per sender, each with its own secret. The repos' remotes do
 * not exist: a job that gets queued fails at its fetch, which costs one git process.
 */

export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
export const BODY_LIMIT = 256 * 1024;

export interface Server {
  pid: number;
  port: number;
  dir: string;
  remotes: string;
  /** Set when the process exited (a crash, during the run). */
  exited(): string | null;
  rssKiB(): number;
  healthz(): Promise<number>;
  /** Every (job, delivery) link in the SQLite ledger: the job's ref and the delivery's x-fuzz-id. */
  jobDeliveries(): { fuzzId: string | null; ref: string | null }[];
  stop(): Promise<void>;
}

function config(remotes: string, extra: string): string {
  const repos = SENDERS.map((s) => `  ${s.repo}: { url: '${remotes}/${s.repo}/site.git', secret: '${s.secret}', branches: [main], tags: ['v*'], providers: [${s.provider}], deploy: { path: ./srv-${s.repo} } }`);
  return `listen: 127.0.0.1:0
data_dir: ./data
body_limit: ${BODY_LIMIT}
limits:
  header_timeout: 3s
  request_timeout: 5s
  keep_alive_timeout: 5s
  # The rate limiter counts as usual but never refuses: one address sends everything here,
  # and 429s would keep most deliveries from the pipeline under fuzz.
  rate: { failed_auth: 999999999/1s, per_address: 999999999/1s, per_repo: 999999999/1s }
${extra}repos:
${repos.join('\n')}
`;
}

/** `extra`: more top-level YAML for the config (say, rate limits once the config has them). */
export async function startServer(cli = CLI, extra = ''): Promise<Server> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'autopull-fuzz-'));
  const remotes = join(dir, 'remotes');
  writeFileSync(join(dir, 'autopull.yml'), config(remotes, extra && !extra.endsWith('\n') ? `${extra}\n` : extra));
  const proc: ChildProcess = spawn(process.execPath, [cli, 'serve', '-c', join(dir, 'autopull.yml'), '--log-level', 'warn'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let exit: string | null = null;
  let stderr = '';
  proc.on('exit', (code, signal) => (exit = `exited with ${signal ?? code}`));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 30 s:\n${stderr}`)), 30_000);
    proc.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-20_000);
      const m = /autopull listening on (\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    proc.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`serve exited before listening:\n${stderr}`));
    });
  }).catch((err: unknown) => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const pid = proc.pid as number;
  const port = Number(new URL(url).port);
  return {
    pid,
    port,
    dir,
    remotes,
    exited: () => (exit === null ? null : `${exit}; its last output:\n${stderr.slice(-3000)}`),
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0),
    healthz: async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) })).status,
    jobDeliveries() {
      const db = new Database(join(dir, 'data', 'autopull.db'), { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT d.headers AS headers, j.ref AS ref FROM job_deliveries jd JOIN deliveries d ON d.id = jd.delivery JOIN jobs j ON j.id = jd.job_id').all() as { headers: string; ref: string | null }[];
        return rows.map((r) => {
          let id: string | null = null;
          try {
            const h = JSON.parse(r.headers) as Record<string, unknown>;
            id = typeof h['x-fuzz-id'] === 'string' ? h['x-fuzz-id'] : null;
          } catch {
            id = null;
          }
          return { fuzzId: id, ref: r.ref };
        });
      } finally {
        db.close();
      }
    },
    async stop() {
      if (exit === null) {
        const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
