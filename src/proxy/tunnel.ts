import type { Duplex } from 'node:stream';
import { closeFrame, FrameCursor, GOING_AWAY } from './ws-frames.js';

/**
 * One direction of an upgraded connection: bytes from `from` written to `to` as they come,
 * `from` paused while `to` is full (so nothing piles up in memory), an end passed on. For a
 * WebSocket a FrameCursor follows the frames, so that stop() can cut between two frames.
 */
class Pump {
  private forwarding = true;
  private stopping: (() => void) | null = null;

  constructor(
    private readonly from: Duplex,
    private readonly to: Duplex,
    private readonly cursor: FrameCursor | null,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
    from.on('end', () => {
      if (this.forwarding) to.end();
    });
  }

  private onData(chunk: Buffer): void {
    if (!this.forwarding) return; // after stop(): what still comes is dropped
    let part = chunk;
    if (this.stopping && this.cursor) {
      part = chunk.subarray(0, this.cursor.advance(chunk, true));
    } else {
      this.cursor?.advance(chunk);
    }
    if (part.length > 0 && !this.to.write(part)) {
      this.from.pause();
      this.to.once('drain', () => this.from.resume());
    }
    if (this.stopping && this.cursor?.atBoundary) this.finishStop();
  }

  /** Stops forwarding at the next frame boundary (at once when there is one now, or for a non-WebSocket), then calls `then`. */
  stop(then: () => void): void {
    if (!this.forwarding || this.stopping) return;
    this.stopping = then;
    // Else the rest of the frame is still to come: onData passes it on and stops at its end.
    if (!this.cursor || this.cursor.atBoundary) this.finishStop();
  }

  private finishStop(): void {
    const then = this.stopping;
    this.forwarding = false;
    this.stopping = null;
    this.from.resume();
    then?.();
  }
}

/**
 * An upgraded connection between a client and an app instance: two Pumps, and a close() that
 * ends it cleanly. A socket error or reset on one side destroys the other; when both sockets
 * are closed, `closed` resolves.
 */
export class Tunnel {
  readonly closed: Promise<void>;
  private readonly toUpstream: Pump;
  private readonly toClient: Pump;
  private closing = false;

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Duplex,
    private readonly websocket: boolean,
  ) {
    this.toUpstream = new Pump(client, upstream, websocket ? new FrameCursor() : null);
    this.toClient = new Pump(upstream, client, websocket ? new FrameCursor() : null);
    const gone = (s: Duplex) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => a.destroy());
      a.once('close', () => {
        // A side that closed without a clean end (reset, error) takes the other one with it.
        if (!a.readableEnded || !a.writableFinished) b.destroy();
        else b.end();
      });
    }
    this.closed = Promise.all([gone(client), gone(upstream)]).then(() => undefined);
  }

  /**
   * Ends the connection at the drain's deadline. A WebSocket gets a close frame 1001 (going
   * away) on both sides, each put between two frames; any other protocol an end of both
   * sockets. Sockets still open after `graceMs` are destroyed.
   */
  close(graceMs: number): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.toClient.stop(() => this.client.end(this.websocket ? closeFrame(GOING_AWAY, 'going away', false) : undefined));
      this.toUpstream.stop(() => this.upstream.end(this.websocket ? closeFrame(GOING_AWAY, 'going away', true) : undefined));
      const timer = setTimeout(() => {
        this.client.destroy();
        this.upstream.destroy();
      }, graceMs);
      void this.closed.finally(() => clearTimeout(timer));
    }
    return this.closed;
  }
}
