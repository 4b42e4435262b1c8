import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/load.js';
import type { NotifyEvent } from '../config/schema.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { VERSION } from '../lib/version.js';
import { listMirrorStatus, type MirrorStatus } from '../store/mirror-status.js';
import { recordTrack, type TrackRow } from '../store/notify-state.js';
import { defaultRef } from '../deploy/deploy.js';
import { isFinal, type Job, type Store } from '../store/store.js';
import { eventFor, jobTrackState, mirrorTrackState, trackName, wants } from './decide.js';
import { messageBody, summarize } from './message.js';
import { Sender, type SenderOptions } from './sender.js';

export interface NotifierOptions extends SenderOptions {
  /** This server's address, for links to a job when the config has no public_url. */
  baseUrl: string;
}

interface Change {
  event: NotifyEvent;
  track: string;
  previous: TrackRow | null;
  mirror?: MirrorStatus;
}

/**
 * Tells the configured receivers (`notify:` at the top and per repo) about finished jobs.
 * It listens to the store's `job` event, which comes after the job's end is committed; the
 * track's new state is recorded at once (store/notify-state.ts, decide.ts says what counts
 * as a change) and the messages go out asynchronously (sender.ts). Whatever happens here is
 * caught and logged: a notification never fails, slows or changes a job.
 *
 * A crash between the record and the send loses that message (the state says it was sent);
 * it never sends one twice.
 */
export class Notifier {
  private readonly sender: Sender;
  private readonly onJob = (id: number) => this.jobChanged(id);
  private readonly host = hostname();

  constructor(
    private config: Config,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly opts: NotifierOptions,
  ) {
    this.sender = new Sender(logger, opts);
  }

  start(): this {
    this.store.on('job', this.onJob);
    return this;
  }

  /** A reloaded config: its receivers take the next messages. */
  setConfig(config: Config): void {
    this.config = config;
  }

  /** Resolves when every message is delivered or given up on (tests). */
  idle(): Promise<void> {
    return this.sender.idle();
  }

  /** No new messages; those in flight get `graceMs`, waiting retries are dropped (sender.ts). */
  async stop(graceMs?: number): Promise<void> {
    this.store.off('job', this.onJob);
    await this.sender.stop(graceMs);
  }

  private jobChanged(id: number): void {
    try {
      const job = this.store.getJob(id);
      // A restart of the supervised app (autopull restart) is an operator's act on a release
      // already live: it is on no track and sends nothing, failed or not.
      if (!job || !isFinal(job.state) || job.state === 'ignored' || job.kind === 'restart') return;
      const repo = this.config.repos.get(job.repo as never);
      if (!repo) return;
      const changes = this.record(job, repo.deploy !== undefined);
      const receivers = [...(this.config.notify ?? []), ...(repo.notify ?? [])];
      if (changes.length === 0 || receivers.length === 0) return;
      const firstDeliveryAt = job.kind === 'deploy' && job.state === 'succeeded' ? this.store.firstDeliveryAt(job.id) : null;
      for (const c of changes) {
        const summary = summarize({ event: c.event, job, ref: job.ref ?? defaultRef(repo), previous: c.previous, mirror: c.mirror, firstDeliveryAt, url: this.jobUrl(job.id), host: this.host, version: VERSION });
        const id = `autopull-job-${job.id}-${c.event}${c.mirror ? `-${createHash('sha256').update(c.track).digest('hex').slice(0, 12)}` : ''}`;
        for (const target of receivers) {
          if (!wants(target.on, c.event)) continue;
          this.sender.send({ target, id, body: messageBody(target.format, summary), about: { repo: job.repo, job: job.id, event: c.event } });
        }
      }
    } catch (err) {
      this.logger.error({ job: id }, `notifications for job ${id} failed: ${errorMessage(err)}`);
    }
  }

  /** Records the job on its tracks (its kind's, and each mirror target it pushed to); returns the changes worth a message. */
  private record(job: Job, hasDeploy: boolean): Change[] {
    const changes: Change[] = [];
    // A deploy job of a repo without deploy: only fetches and mirrors: its mirror tracks speak.
    const state = job.kind === 'rollback' || (job.kind === 'deploy' && hasDeploy) ? jobTrackState(job) : null;
    if (state) {
      const track = trackName(job.kind);
      const r = recordTrack(this.store.db, job.repo, track, state, job.id);
      const event = r.recorded ? eventFor('job', r.previous, state) : null;
      if (r.recorded && event) changes.push({ event, track, previous: r.previous });
    }
    for (const m of listMirrorStatus(this.store.db, job.repo)) {
      if (m.last_job !== job.id) continue;
      const track = trackName('mirror', m.target);
      const s = mirrorTrackState(m.state);
      const r = recordTrack(this.store.db, job.repo, track, s, job.id);
      const event = r.recorded ? eventFor('mirror', r.previous, s) : null;
      if (r.recorded && event) changes.push({ event, track, previous: r.previous, mirror: m });
    }
    return changes;
  }

  private jobUrl(id: number): string {
    return `${(this.config.public_url ?? this.opts.baseUrl).replace(/\/+$/, '')}/jobs/${id}`;
  }
}

/** Starts notifying about the store's finished jobs (the server, or an in-process CLI run). */
export function startNotifier(config: Config, store: Store, logger: Logger, baseUrl: string): Notifier {
  return new Notifier(config, store, logger, { baseUrl }).start();
}
