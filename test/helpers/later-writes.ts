import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A child process that opens a Store (from `storeUrl`: src under tsx, or dist) on `file` and
 * runs `body`, with `Database` (better-sqlite3), `rec(id)` recording a delivery later (8 KB body; a lost row is printed on
 * stderr as `lost`) and `turn()` awaiting the next setImmediate. Lines it prints on stdout are
 * passed to `onLine` with its stdin, so the parent can answer.
 */
export async function runStoreChild(
  dir: string,
  storeUrl: string,
  file: string,
  body: string,
  onLine: (line: string, stdin: NodeJS.WritableStream) => void = () => {},
): Promise<{ code: number | null; stderr: string }> {
  const script = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `const { Store } = await import(${JSON.stringify(storeUrl)});
const { default: Database } = await import(${JSON.stringify(import.meta.resolve('better-sqlite3'))});
const s = new Store(${JSON.stringify(file)});
const rec = (id) => s.recordDeliveryLater({ delivery_id: id, provider: 'github', event: 'push', repo: 'site', received_at: new Date().toISOString(),
  remote_addr: '127.0.0.1', status_code: 200, outcome: 'ignored', message: 'm', headers: { 'x-github-event': 'push' }, body: Buffer.alloc(8000, 120), body_truncated: false },
  (err, n) => console.error('lost', n, err.message));
const turn = () => new Promise((resolve) => setImmediate(resolve));
${body}`,
  );
  const tsx = storeUrl.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...tsx, script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stderr = '';
  let out = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      onLine(out.slice(0, i), child.stdin);
      out = out.slice(i + 1);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  return { code, stderr };
}

/** The delivery ids written, in id order (another connection: only what was committed). */
export function ledgerIds(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT delivery_id FROM deliveries ORDER BY id').pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** `prefix0` .. `prefix{n-1}`. */
export const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
