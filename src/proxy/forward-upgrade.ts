import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { UpstreamHandler } from './upstream-handler.js';
import { answerRaw, upstreamFailure } from './answers.js';
import { CLOSE_GRACE_MS, originPath, type UpstreamFailureReport } from './forward-request.js';
import { rawHeaderStrings, responseHeaders, type RawHeaders } from './headers.js';
import type { Exchange, Target } from './target.js';
import { Tunnel } from './tunnel.js';

/** The head of a response written by hand on the client's raw socket (there is no ServerResponse for an upgrade request). */
function responseHead(status: number, statusMessage: string | undefined, headers: RawHeaders, last: string): string {
  let head = `HTTP/1.1 ${status} ${statusMessage || STATUS_CODES[status] || ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}${last}\r\n`;
}

/**
 * An upgrade request (WebSocket, or any other protocol) forwarded to one target. On a 101
 * the two sockets are joined by a Tunnel; any other answer of the app is passed on as it is
 * (a 401 on a WebSocket endpoint stays a 401), its body delimited by closing the connection.
 */
class UpgradeExchange extends UpstreamHandler implements Dispatcher.DispatchHandler, Exchange {
  private tunnel: Tunnel | null = null;
  /** Part of an answer went to the client: an error now can only cut the connection. */
  private answered = false;
  private readonly closed: Promise<void>;

  constructor(
    private readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
    private readonly target: Target,
    private readonly report: UpstreamFailureReport,
  ) {
    super();
    const release = target.track('sockets', this);
    client.on('error', () => client.destroy());
    this.closed = new Promise((resolve) => {
      client.once('close', () => {
        if (!this.tunnel) this.abortUpstream(new Error('the client went away'));
        void (this.tunnel?.closed ?? Promise.resolve()).then(() => {
          release();
          resolve();
        });
      });
    });
  }

  start(path: string, headers: RawHeaders, protocol: string): void {
    this.target.pool.dispatch({ path, method: this.req.method ?? 'GET', headers, upgrade: protocol, body: null }, this);
  }


  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, upstream: Duplex): void {
    if (this.settled || this.client.destroyed) return void upstream.destroy();
    this.settled = true;
    const upgrade = [headers.upgrade ?? this.req.headers.upgrade ?? ''].flat()[0] as string;
    const rest = responseHeaders(rawHeaderStrings(controller.rawHeaders as Buffer[] | null));
    this.client.write(responseHead(statusCode, 'Switching Protocols', rest, `connection: Upgrade\r\nupgrade: ${upgrade}\r\n`), 'latin1');
    if (this.head.length > 0) upstream.write(this.head);
    this.tunnel = new Tunnel(this.client, upstream, upgrade.toLowerCase() === 'websocket');
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    if (this.settled || statusCode < 200) return;
    const headers = responseHeaders(rawHeaderStrings(controller.rawHeaders as Buffer[] | null));
    this.answered = true;
    this.client.write(responseHead(statusCode, statusMessage, headers, 'connection: close\r\n'), 'latin1');
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled || this.client.write(chunk)) return;
    controller.pause();
    this.client.once('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    this.client.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    if (this.settled) return;
    this.settled = true;
    if (this.client.destroyed) return;
    if (this.answered) return void this.client.destroy();
    this.report(this.target, err);
    const { code, message } = upstreamFailure(err);
    answerRaw(this.client, code, message);
  }

  /** The drain's deadline: a tunnel is closed cleanly (Tunnel.close); an upgrade still waiting for the app is answered 503. */
  close(reason: string): Promise<void> {
    if (this.tunnel) return this.tunnel.close(CLOSE_GRACE_MS).then(() => this.closed);
    if (!this.client.destroyed) {
      this.abortUpstream(new Error(reason));
      if (this.answered) this.client.destroy();
      else answerRaw(this.client, 'unavailable', `${reason}; try again`, 'retry-after: 1\r\n');
    }
    const timer = setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS);
    return this.closed.finally(() => clearTimeout(timer));
  }
}

/** Forwards the upgrade request `req` (its socket, and the bytes after its headers) to `target`. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: Target, headers: RawHeaders, report: UpstreamFailureReport): void {
  const path = originPath(req.url);
  if (path === null) return answerRaw(socket, 'bad_request', `cannot forward a request for ${JSON.stringify(req.url ?? '')}: the target must be a path`);
  new UpgradeExchange(req, socket, head, target, report).start(path, headers, req.headers.upgrade ?? 'websocket');
}
