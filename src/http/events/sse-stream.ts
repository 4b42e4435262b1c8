import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseOptions {
  /** Bytes a client may leave unread (our buffer plus the socket's) before it is dropped. */
  bufferCap: number;
  /** A comment line is written this often, so proxies and the client see the stream alive. */
  heartbeatMs: number;
  /** The reconnect delay the client is told (`retry:`). */
  retryMs: number;
}

/**
 * One Server-Sent Events response, written straight to Node's response (the route hijacked
 * it from fastify). Bounded: a client that reads slower than we write is dropped once
 * `bufferCap` bytes wait for it, instead of the server buffering without limit. The socket's
 * idle timeout (limits.request_timeout) is off for this response: the heartbeat keeps the
 * line moving, and a dead peer shows up as a failed or ever-growing write.
 */
export class SseStream {
  private closedFlag = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closeListeners: (() => void)[] = [];
  /** Set when the stream was cut for reading too slowly. */
  overflowed = false;
  /** Called on every heartbeat while the stream is open. */
  onTick: () => void = () => {};

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly o: SseOptions,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
      // A stream ends only when one side leaves: the connection is not reused after it.
      connection: 'close',
    });
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.write(`retry: ${o.retryMs}\n\n`);
    const closed = () => this.markClosed();
    res.on('close', closed);
    res.on('error', closed);
    this.heartbeat = setInterval(() => {
      this.comment('keepalive');
      if (!this.closedFlag) this.onTick();
    }, o.heartbeatMs);
    this.heartbeat.unref();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  onClose(fn: () => void): void {
    if (this.closedFlag) fn();
    else this.closeListeners.push(fn);
  }

  /** Writes one event; `data` is sent as one line of JSON. Returns false once the stream is closed. */
  event(name: string, data: unknown, id?: string | number): boolean {
    const idLine = id === undefined ? '' : `id: ${String(id)}\n`;
    return this.write(`event: ${name}\n${idLine}data: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): boolean {
    return this.write(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
  }

  /** Bytes written but not yet taken by the client's socket. */
  get pending(): number {
    return this.res.writableLength;
  }

  /** Resolves when the buffer is below half the cap again, or when the stream closes. */
  async drained(): Promise<void> {
    while (!this.closedFlag && this.pending > this.o.bufferCap / 2) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.once('drain', done);
        this.res.once('close', done);
      });
    }
  }

  end(): void {
    if (this.closedFlag) return;
    this.res.end();
    this.markClosed();
  }

  private write(text: string): boolean {
    if (this.closedFlag) return false;
    this.res.write(text);
    if (this.pending > this.o.bufferCap) {
      // The client does not keep up: drop it (it reconnects with Last-Event-ID when it can).
      this.overflowed = true;
      this.res.destroy();
      this.markClosed();
      return false;
    }
    return true;
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.heartbeat);
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}
