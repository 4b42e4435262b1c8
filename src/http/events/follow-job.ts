import { isFinal, type Job, type Store } from '../../store/store.js';
import type { EventHub } from './event-hub.js';
import { jobEvent, logEvent } from './payloads.js';
import type { SseStream } from './sse-stream.js';

/** Log lines read from the store per batch while catching up. */
const BATCH = 500;

/**
 * Streams one job: a `state` event (the job row) first and on every change, its log lines
 * after `after` as `log` events whose id is the line's seq (so EventSource's Last-Event-ID
 * resumes where it left off), and `end` once the job is final, after which the stream ends.
 *
 * Catching up reads the store in batches and waits for the client to take each one; lines
 * committed meanwhile are read by the next batch, not sent live, so none is lost or sent
 * twice. Live lines come from the hub once the store has no more. Every heartbeat tick
 * catches up again: a job run by another process (a CLI deploy) emits nothing here.
 */
export function followJob(hub: EventHub, store: Store, stream: SseStream, job: Job, after: number): void {
  let last = after;
  let lastState = '';
  let busy = true;
  const sendState = (j: Job) => {
    const key = `${j.state} ${j.updated_at} ${j.release ?? ''}`;
    if (key === lastState) return;
    lastState = key;
    stream.event('state', jobEvent(j));
  };
  const endIfFinal = (j: Job) => {
    if (!isFinal(j.state) || stream.closed) return;
    stream.event('end', { id: j.id, state: j.state });
    stream.end();
  };
  const catchUp = () => catchUpOnce().catch(() => stream.end());
  const catchUpOnce = async () => {
    busy = true;
    for (;;) {
      const lines = store.logsAfter(job.id, last, BATCH);
      for (const l of lines) {
        if (!stream.event('log', logEvent(l), l.seq)) return;
        last = l.seq;
      }
      if (lines.length < BATCH) break;
      await stream.drained();
      if (stream.closed) return;
    }
    // No await since the last read: from here on, live lines follow the ones read.
    busy = false;
    const now = store.getJob(job.id);
    if (now) {
      sendState(now);
      endIfFinal(now);
    }
  };
  const stop = hub.onJobEvents(job.id, {
    line(l) {
      if (busy || l.seq <= last) return;
      if (stream.event('log', logEvent(l), l.seq)) last = l.seq;
    },
    state(j) {
      if (busy) return;
      sendState(j);
      endIfFinal(j);
    },
  });
  stream.onClose(stop);
  stream.onTick = () => {
    if (!busy) void catchUp();
  };
  sendState(job);
  void catchUp();
}
