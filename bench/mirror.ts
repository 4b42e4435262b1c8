// npm run bench:mirror (also run by npm run bench): time for a mirror job to bring two local
// bare targets level with the source after a push of 1 commit and after a push of 1,000
// commits (fetch + ls-remote + push to both targets, in parallel). Writes docs/BENCHMARKS-mirror.md.
// Bounded: 5 rounds of 1 commit, 3 rounds of 1,000.
import { execFileSync } from 'node:child_process';
import { cpus, release } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { Store } from '../src/store/store.js';
import { Worker } from '../src/runner/worker.js';
import { enqueueMirror } from '../src/runner/manual.js';
import { silentLogger } from '../src/lib/log.js';
import { bareRemote, git, workRepo } from '../test/helpers/git.js';
import { tempDir } from '../test/helpers/tmp.js';

import { runBench, writeReport } from './report.js';

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };

/** Appends `n` commits to main with git fast-import (each changes one file) and pushes them. */
function pushCommits(work: string, n: number, round: string): void {
  let stream = '';
  for (let i = 0; i < n; i++) {
    const data = `${round} ${i}\n`;
    stream += `commit refs/heads/main\ncommitter Bench <bench@example.invalid> ${1_700_000_000 + i} +0000\ndata ${`commit ${round}-${i}`.length}\ncommit ${round}-${i}\n`;
    if (i === 0) stream += `from refs/heads/main^0\n`;
    stream += `M 100644 inline files/${i % 50}.txt\ndata ${Buffer.byteLength(data)}\n${data}\n`;
  }
  execFileSync('git', ['fast-import', '--quiet', '--force'], { cwd: work, input: stream });
  git(work, 'push', '-q', 'origin', 'main');
}

async function main() {
  const dir = tempDir(t);
  const source = bareRemote(join(dir, 'source.git'));
  const work = workRepo(join(dir, 'work'), source);
  git(work, 'commit', '-q', '--allow-empty', '-m', 'root');
  git(work, 'push', '-q', 'origin', 'main');
  bareRemote(join(dir, 'a.git'));
  bareRemote(join(dir, 'b.git'));
  writeFileSync(join(dir, 'autopull.yml'), `data_dir: ./data\nrepos:\n  src:\n    url: ./source.git\n    insecure: true\n    mirror:\n      - url: ./a.git\n      - url: ./b.git\n`);
  const config = loadConfig(join(dir, 'autopull.yml'));
  const store = new Store(join(config.data_dir, 'autopull.db'));
  cleanups.push(() => store.close());
  const worker = new Worker(config, store, silentLogger());
  const mirror = async () => {
    const t0 = performance.now();
    const { id } = enqueueMirror(config, store, 'src');
    worker.kick('src');
    await worker.idle();
    const ms = performance.now() - t0;
    const job = store.getJob(id);
    if (job?.state !== 'succeeded' || !/2 ok/.test(job.reason ?? '')) throw new Error(`mirror job ${id}: ${job?.state} ${job?.reason}`);
    return ms;
  };
  await mirror();
  const rows: string[] = [];
  for (const [n, rounds] of [[1, 5], [1000, 3]] as const) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      pushCommits(work, n, `${n}-${r}`);
      times.push(await mirror());
      const want = git(source, 'rev-parse', 'main');
      for (const target of ['a.git', 'b.git']) if (git(join(dir, target), 'rev-parse', 'main') !== want) throw new Error(`${target} is behind`);
    }
    const s = [...times].sort((a, b) => a - b);
    rows.push(`| ${n} commit${n === 1 ? '' : 's'} | ${rounds} | ${Math.round(s[Math.floor(s.length / 2)] as number)} ms | ${Math.round(s[s.length - 1] as number)} ms |`);
  }
  const out = `# Mirror benchmark

Time from queueing a mirror job to both targets (local bare repositories) holding the pushed
commits: fetch from the source, \`git ls-remote\` and \`git push\` to the two targets in parallel,
status rows written. Command: \`npm run bench:mirror\`. Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}, ${execFileSync('git', ['--version']).toString().trim()}.

| push of | rounds | median | max |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
  writeReport('BENCHMARKS-mirror.md', [out]);
}

await runBench(main, cleanups);
