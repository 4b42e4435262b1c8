import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobOwner, JobQueue } from '../../src/store/job-queue.js';

/**
 * The job queue's contract (src/store/job-queue.ts), as tests any backend must pass. A backend
 * gives a queue and a second handle on the same data (another connection, another client):
 * two processes claiming at once. The clock is the test's: leases run out when it says so.
 */
export interface QueueBackend {
  queue: JobQueue;
  /** Another handle on the same queue, as a second process would have. */
  other(): JobQueue;
}

export type MakeBackend = (t: { after(fn: () => unknown): void }, clock: { now(): number }, leaseMs: number) => Promise<QueueBackend>;

const A: JobOwner = { pid: 1001, start: 'a' };
const B: JobOwner = { pid: 1002, start: 'b' };
const LEASE = 30_000;
const push = (repo: string, sha: string, deliveries: number[] = []) => ({ repo, ref: 'refs/heads/main', hintSha: sha.repeat(40), trigger: 'webhook' as const, deliveries });

export function jobQueueContract(name: string, make: MakeBackend): void {
  async function setup(t: { after(fn: () => unknown): void }, alive: Set<number> = new Set([A.pid, B.pid])) {
    const clock = { ms: 1_000_000, now() { return this.ms; } };
    const b = await make(t, clock, LEASE);
    return { ...b, clock, isAlive: (o: JobOwner) => alive.has(o.pid), alive };
  }

  test(`${name}: pushes to a repo with a queued job coalesce into it; the newest ref and hint win, deliveries add up`, async (t) => {
    const { queue } = await setup(t);
    const first = await queue.enqueue(push('site', 'a', [1]));
    const second = await queue.enqueue(push('site', 'b', [2]));
    assert.deepEqual([first.coalesced, second.coalesced], [false, true]);
    assert.equal(second.id, first.id);
    const job = await queue.get(first.id);
    assert.equal(job?.hint_sha, 'b'.repeat(40));
    assert.deepEqual(job?.deliveries, [1, 2]);
    assert.equal(job?.state, 'queued');
  });

  test(`${name}: another kind, other params or another repo is a job of its own`, async (t) => {
    const { queue } = await setup(t);
    const deploy = await queue.enqueue(push('site', 'a'));
    const mirror = await queue.enqueue({ ...push('site', 'a'), kind: 'mirror' });
    const rollbackTo1 = await queue.enqueue({ repo: 'site', kind: 'rollback', params: { to: 'r1' }, ref: null, hintSha: null, trigger: 'manual' });
    const rollbackTo2 = await queue.enqueue({ repo: 'site', kind: 'rollback', params: { to: 'r2' }, ref: null, hintSha: null, trigger: 'manual' });
    const other = await queue.enqueue(push('blog', 'a'));
    assert.equal(new Set([deploy.id, mirror.id, rollbackTo1.id, rollbackTo2.id, other.id]).size, 5);
    assert.deepEqual((await queue.queuedRepos()).sort(), ['blog', 'site']);
  });

  test(`${name}: one running job per repo, oldest first; other repos run beside it`, async (t) => {
    const { queue } = await setup(t);
    const deploy = await queue.enqueue(push('site', 'a'));
    const mirror = await queue.enqueue({ ...push('site', 'a'), kind: 'mirror' });
    const blog = await queue.enqueue(push('blog', 'a'));
    const claimed = await queue.claim('site', A);
    assert.equal(claimed?.id, deploy.id);
    assert.equal(claimed?.state, 'running');
    assert.equal(claimed?.owner_pid, A.pid);
    assert.equal(await queue.claim('site', B), null, 'a second job of a repo never runs beside the first');
    assert.equal((await queue.claim('blog', B))?.id, blog.id);
    assert.equal((await queue.running('site'))?.id, deploy.id);
    assert.ok(await queue.finish(deploy.id, A, { state: 'succeeded', reason: 'ok' }));
    assert.equal((await queue.claim('site', B))?.id, mirror.id);
  });

  test(`${name}: claim with only takes that job and no other`, async (t) => {
    const { queue } = await setup(t);
    const mine = await queue.enqueue({ ...push('site', 'a'), kind: 'mirror' });
    const older = await queue.enqueue(push('blog', 'a'));
    assert.equal(await queue.claim('blog', A, { only: mine.id }), null);
    assert.equal((await queue.claim('site', A, { only: mine.id }))?.id, mine.id);
    assert.equal((await queue.get(older.id))?.state, 'queued');
  });

  test(`${name}: two processes claiming at once: exactly one gets the job`, async (t) => {
    const b = await setup(t);
    const second = b.other();
    await b.queue.enqueue(push('site', 'a'));
    const got = await Promise.all([b.queue.claim('site', A), second.claim('site', B)]);
    assert.equal(got.filter((j) => j !== null).length, 1, JSON.stringify(got));
  });

  test(`${name}: finish records state, reason and failure code, only for the owner, once`, async (t) => {
    const { queue } = await setup(t);
    const { id } = await queue.enqueue(push('site', 'a'));
    await queue.claim('site', A);
    assert.equal(await queue.finish(id, B, { state: 'succeeded', reason: 'not mine' }), false);
    assert.equal((await queue.get(id))?.state, 'running');
    assert.equal(await queue.finish(id, A, { state: 'failed', reason: 'build exited 1', failure: 'build_failed' }), true);
    const job = await queue.get(id);
    assert.deepEqual([job?.state, job?.reason, job?.failure], ['failed', 'build exited 1', 'build_failed']);
    assert.ok(job?.finished_at);
    assert.equal(await queue.finish(id, A, { state: 'succeeded', reason: 'again' }), false, 'a finished job stays as it ended');
    assert.equal(await queue.heartbeat(id, A), false);
  });

  test(`${name}: a lease kept by heartbeats is never taken; one left to run out is`, async (t) => {
    const { queue, clock, isAlive } = await setup(t);
    const { id } = await queue.enqueue(push('site', 'a', [7]));
    await queue.claim('site', A);
    for (let i = 0; i < 3; i++) {
      clock.ms += (LEASE * 2) / 3;
      assert.equal(await queue.heartbeat(id, A), true);
      assert.deepEqual(await queue.recover(isAlive), [], 'a renewed lease holds');
    }
    clock.ms += LEASE + 1;
    const taken = await queue.recover(isAlive);
    assert.deepEqual(taken.map((j) => j.id), [id]);
    const old = await queue.get(id);
    assert.deepEqual([old?.state, old?.failure], ['interrupted', 'interrupted']);
    assert.equal(await queue.heartbeat(id, A), false, 'the old owner learns it lost the job');
    assert.equal(await queue.finish(id, A, { state: 'succeeded', reason: 'late' }), false);
    const again = await queue.claim('site', B);
    assert.equal(again?.retry_of, id);
    assert.equal(again?.trigger, 'recovery');
    assert.deepEqual(again?.deliveries, [7]);
    assert.equal(again?.hint_sha, 'a'.repeat(40));
  });

  test(`${name}: a job whose owner is gone is taken at once, within its lease`, async (t) => {
    const { queue, alive, isAlive } = await setup(t);
    const { id } = await queue.enqueue(push('site', 'a'));
    await queue.claim('site', A);
    assert.deepEqual(await queue.recover(isAlive), []);
    alive.delete(A.pid);
    assert.deepEqual((await queue.recover(isAlive)).map((j) => j.id), [id]);
    assert.equal((await queue.running('site')), null);
    assert.deepEqual(await queue.queuedRepos(), ['site']);
  });

  test(`${name}: requeue gives the work back into the queued job, which keeps its newer ref`, async (t) => {
    const { queue } = await setup(t);
    const { id } = await queue.enqueue(push('site', 'a', [1]));
    await queue.claim('site', A);
    const newer = await queue.enqueue(push('site', 'b', [2]));
    assert.equal(await queue.requeue(id, B, 'not mine'), false);
    assert.equal(await queue.requeue(id, A, 'stopping'), true);
    assert.equal((await queue.get(id))?.state, 'interrupted');
    const next = await queue.claim('site', A);
    assert.equal(next?.id, newer.id, 'merged into the queued job, no second one');
    assert.equal(next?.hint_sha, 'b'.repeat(40));
    assert.deepEqual(next?.deliveries, [1, 2]);
  });
}
