import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { shortSha, type ReleaseId } from '../lib/ids.js';
import { isKnownGood } from '../store/release-state.js';
import type { JobContext, JobResult } from './context.js';
import { goLiveOrDrop } from './gate/index.js';
import { readCurrent, type Layout } from './releases.js';

/**
 * An earlier autopull died inside the gate (after the switch, before the end of probation):
 * `current` points at a `switching` release that never passed. Deploys and rollbacks call this
 * first: it runs the gate again for that release, with the release recorded as its previous (or
 * else the newest known-good one) as the one to go back to. Null when current is not switching.
 */
export async function resumeInterruptedGate(ctx: JobContext, l: Layout, ref: string): Promise<JobResult | null> {
  const release = readCurrent(l);
  const row = release ? ctx.releases.get(release) : null;
  if (release === null || row?.state !== 'switching') return null;
  const rows = ctx.releases.list().filter((r) => r.id !== release && isKnownGood(r.state) && existsSync(join(l.releases, r.id)));
  const before = rows.find((r) => r.id === row.previous) ?? rows[0] ?? null;
  ctx.log('info', `release ${release} went live without finishing its checks (autopull stopped); running them again`);
  ctx.setTarget({ release });
  await goLiveOrDrop(ctx, l, { release, sha: row.sha, ref, previous: (before?.id as ReleaseId | undefined) ?? null, previousSha: before?.sha ?? null, resumed: true });
  return { state: 'succeeded', reason: `${shortSha(row.sha)} is live (release ${release}, checks finished after a restart of autopull)`, release };
}
