import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_STATUS, type ErrorCode } from '../lib/errors.js';
import { errorBody, rawJsonAnswer } from '../lib/raw-answer.js';

/**
 * The proxy's own answers, in the JSON error shape of the rest of autopull, and what an
 * upstream failure means for the client.
 */

/** Seconds a client is asked to wait when no instance is routed (Retry-After). */
export const RETRY_AFTER_S = 5;

/**
 * Answers `code` on `res`. The connection closes afterwards when the request body has not
 * been read to its end: draining an upload nobody wants is the client's time, not ours.
 */
export function answer(req: IncomingMessage, res: ServerResponse, code: ErrorCode, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const body = errorBody(code, message);
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra };
  if (!req.complete) headers.connection = 'close';
  res.writeHead(ERROR_STATUS[code], headers);
  res.end(body);
}

/** The same answer on a raw socket (an upgrade request), then the socket is closed. */
export function answerRaw(socket: Duplex, code: ErrorCode, message: string, extraHeaders = ''): void {
  if (socket.destroyed) return;
  socket.on('error', () => socket.destroy());
  socket.end(rawJsonAnswer(code, message, extraHeaders));
}

export function noTargetMessage(): string {
  return 'no instance of the app is running behind this proxy; try again shortly';
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while the request was sent',
  UND_ERR_SOCKET: 'connection closed before a complete answer',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_HEADERS_OVERFLOW: 'the answer headers are too large',
  UND_ERR_CLOSED: 'the connection pool was closed',
  UND_ERR_DESTROYED: 'the connection pool was closed',
};

/**
 * The client's answer for an upstream request that failed before any of the answer went out.
 * It names the cause, not the instance or its port: those go to the log.
 */
export function upstreamFailure(err: Error & { code?: string }): { code: ErrorCode; message: string } {
  const code = err.code ?? '';
  if (code === 'UND_ERR_INVALID_ARG') return { code: 'bad_request', message: `the request cannot be forwarded: ${err.message}` };
  const cause = CAUSES[code] ?? err.message;
  const suffix = code !== '' ? ` (${code})` : '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { code: 'gateway_timeout', message: `the app did not start its answer in time${suffix}` };
  return { code: 'bad_gateway', message: `the app did not answer: ${cause}${suffix}` };
}
