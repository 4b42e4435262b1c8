import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { groupHasLive, liveGroupMembers, stopGroup } from './process-group.js';
import { killGroup } from './exec.js';

/** Members of group `pgid` in state Z (zombies), from /proc. */
function zombies(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const [state, , pgrp] = readFileSync(`/proc/${n}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
        return state === 'Z' && Number(pgrp) === pgid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('a zombie is no live member of its group; stopGroup does not wait for it', async (t) => {
  // `sleep 0` ends at once and stays a zombie: its parent became `sleep 1000`, which never reaps.
  const child = spawn('sh', ['-c', 'sleep 0 & exec sleep 1000'], { detached: true, stdio: 'ignore' });
  const pgid = child.pid as number;
  t.after(() => killGroup(pgid, 'SIGKILL'));
  const end = Date.now() + 10_000;
  while (zombies(pgid).length === 0 && Date.now() < end) await delay(10);
  assert.equal(zombies(pgid).length, 1, 'the background sleep is a zombie');
  assert.deepEqual(liveGroupMembers(pgid), [pgid]);
  assert.equal(groupHasLive(pgid), true);

  const r = await stopGroup(child, 5000);
  assert.deepEqual(r, { killedMain: false, killedRest: 0 });
  assert.equal(child.signalCode, 'SIGTERM');
  assert.deepEqual(liveGroupMembers(pgid), []);
  assert.equal(groupHasLive(pgid), false);
});
