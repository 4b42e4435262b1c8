import { PassThrough } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { UpstreamHandler } from './upstream-handler.js';
import { answer, upstreamFailure } from './answers.js';
import { hasContentLength, rawHeaderStrings, responseHeaders, type RawHeaders } from './headers.js';
import type { Exchange, Target } from './target.js';

/** What a forwarded exchange reports: upstream failures, for the log. */
export type UpstreamFailureReport = (target: Target, err: Error & { code?: string }) => void;

/** A response the drain cut is ended (or destroyed) and then given this long to close before its socket is destroyed. */
export const CLOSE_GRACE_MS = 2000;

/**
 * The origin-form path of a request target: as sent, or the path of an absolute-form URL;
 * null for what cannot be forwarded (`*`, junk).
 */
export function originPath(url: string | undefined): string | null {
  if (url === undefined || url === '') return null;
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? `${u.pathname}${u.search}` : null;
  } catch {
    return null;
  }
}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * One request forwarded to one target, as an undici dispatch handler: the request body
 * streams up, the answer streams down, each side paused while the other is full, so neither
 * is ever held in memory. The client going away aborts the upstream request; an upstream
 * failure before the answer started is a JSON 502/504, after it the client's connection is
 * cut (a truncated body must look truncated).
 */
class HttpExchange extends UpstreamHandler implements Dispatcher.DispatchHandler, Exchange {
  private hasLength = false;
  private waitingForDrain = false;
  private retried = false;
  private opts: Dispatcher.DispatchOptions | null = null;
  private readonly closed: Promise<void>;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly target: Target,
    private readonly report: UpstreamFailureReport,
  ) {
    super();
    const release = target.track('requests', this);
    this.closed = new Promise((resolve) => {
      res.once('close', () => {
        if (!res.writableFinished) this.abortUpstream(new Error('the client went away'));
        release();
        resolve();
      });
    });
  }

  start(path: string, headers: RawHeaders): void {
    let body: PassThrough | null = null;
    if (hasBody(this.req)) {
      // undici destroys a body it gives up on; destroying the request itself would reset the
      // client before it gets its 502. The PassThrough takes that, and pipe() keeps backpressure.
      body = new PassThrough();
      this.req.pipe(body);
    }
    this.opts = { path, method: this.req.method ?? 'GET', headers, body };
    this.target.pool.dispatch(this.opts, this);
  }

  /**
   * A kept-alive connection the app closed just as the request went out fails with a reset
   * before any answer. A request without a body and with a method that may be repeated
   * (RFC 9110 9.2.2) is sent once more, on a fresh connection; anything else is a 502.
   */
  private retry(err: Error & { code?: string }): boolean {
    const o = this.opts;
    if (this.retried || !o || o.body !== null || this.res.headersSent || !RETRYABLE_METHODS.has(o.method)) return false;
    if (err.code !== 'UND_ERR_SOCKET' && err.code !== 'ECONNRESET') return false;
    this.retried = true;
    this.controller = null;
    this.target.pool.dispatch(o, this);
    return true;
  }


  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    if (this.settled || statusCode < 200) return; // 1xx (103 Early Hints): not passed on
    const headers = responseHeaders(rawHeaderStrings(controller.rawHeaders as Buffer[] | null));
    this.hasLength = hasContentLength(headers);
    try {
      this.res.writeHead(statusCode, statusMessage || undefined, headers);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.res.write(chunk) || this.waitingForDrain) return;
    this.waitingForDrain = true;
    controller.pause();
    this.res.once('drain', () => {
      this.waitingForDrain = false;
      controller.resume();
    });
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.settled || this.retry(err)) return;
    this.fail(err);
  }

  private fail(err: Error & { code?: string }): void {
    this.abortUpstream(err);
    if (this.res.destroyed || this.res.writableEnded) return;
    if (this.res.headersSent) return void this.res.destroy();
    this.report(this.target, err);
    const { code, message } = upstreamFailure(err);
    answer(this.req, this.res, code, message);
  }

  /**
   * The drain's deadline: an answer not started becomes a 503; a body of unknown length
   * (chunked: SSE, a stream) ends cleanly, so the client sees a complete response and asks
   * again (reaching the new instance); a body with a Content-Length cannot end early and is cut.
   */
  close(reason: string): Promise<void> {
    if (this.res.destroyed || this.res.writableFinished) return this.closed;
    this.abortUpstream(new Error(reason));
    if (!this.res.headersSent) answer(this.req, this.res, 'unavailable', `${reason}; try again`, { 'retry-after': '1' });
    else if (this.hasLength) this.res.destroy();
    else this.res.end();
    const timer = setTimeout(() => this.res.destroy(), CLOSE_GRACE_MS);
    return this.closed.finally(() => clearTimeout(timer));
  }
}

/** Forwards `req` to `target` with `headers` (already made by requestHeaders). */
export function forwardRequest(req: IncomingMessage, res: ServerResponse, target: Target, headers: RawHeaders, report: UpstreamFailureReport): void {
  const path = originPath(req.url);
  if (path === null) return answer(req, res, 'bad_request', `cannot forward a request for ${JSON.stringify(req.url ?? '')}: the target must be a path`);
  new HttpExchange(req, res, target, report).start(path, headers);
}
