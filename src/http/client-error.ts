import type { ServerResponse } from 'node:http';
import type { ConnectionError } from 'fastify';
import type { Socket } from 'node:net';
import type { Limits } from '../config/schema.js';
import type { ErrorCode } from '../lib/errors.js';
import { rawJsonAnswer } from '../lib/raw-answer.js';

export { rawJsonAnswer };

/**
 * Answers for requests that Node's HTTP layer rejects before any route sees them (the
 * server's 'clientError'): the same JSON shape as every other error, with the status HTTP
 * gives them. Parse errors carry the offending chunk as `rawPacket`.
 */
type ClientError = Error & { code?: string; reason?: string; rawPacket?: unknown };

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * A header overflow whose failing chunk starts with a request line longer than max_url_length
 * is a URL too long (414); any other is headers too large (431). Node counts the request line
 * towards max_header_size, so both end here.
 */
function urlOverflow(raw: unknown, maxUrl: number): boolean {
  if (!Buffer.isBuffer(raw) || !/^[A-Z]+ \S/.test(raw.subarray(0, 32).toString('latin1'))) return false;
  const end = raw.indexOf('\n');
  return (end < 0 ? raw.length : end) > maxUrl;
}

/** The answer for a client error, or null when there is nobody to answer (a reset, a socket error). */
export function describeClientError(err: ClientError, limits: Limits): { code: ErrorCode; message: string } | null {
  const code = err.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      code: 'request_timeout',
      message: `the request did not arrive in time: its headers must arrive within ${seconds(limits.header_timeout)} (limits.header_timeout) and all of it within ${seconds(limits.request_timeout)} (limits.request_timeout)`,
    };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    if (urlOverflow(err.rawPacket, limits.max_url_length)) return { code: 'uri_too_long', message: `the URL is longer than ${limits.max_url_length} bytes (limits.max_url_length)` };
    return { code: 'headers_too_large', message: `the request line and headers are larger than ${limits.max_header_size} bytes (limits.max_header_size)` };
  }
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { code: 'body_too_large', message: 'the chunk extensions of the body are too large' };
  if (code.startsWith('HPE_')) return { code: 'bad_request', message: `malformed HTTP request: ${err.reason ?? err.message} (${code})` };
  return null;
}

/**
 * fastify's clientErrorHandler: writes the JSON answer when nothing of a response went out on
 * this connection yet (as Node itself would), then destroys the socket. Called again for
 * further data after a parse error: a destroyed socket is left alone.
 */
export function clientErrorHandler(limits: Limits): (err: ConnectionError, socket: Socket) => void {
  return (err: ClientError, socket) => {
    if (socket.destroyed) return;
    const answer = err.code === 'ECONNRESET' ? null : describeClientError(err, limits);
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (answer && socket.writable && !inFlight?.headersSent) socket.write(rawJsonAnswer(answer.code, answer.message));
    socket.destroy();
  };
}
