import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../lib/errors.js';
import { rawJsonAnswer } from '../lib/raw-answer.js';

type ClientError = Error & { code?: string; reason?: string };

/** The answer for what Node's HTTP parser refused before the proxy saw a request, or null when nobody is left to answer. */
export function describeProxyClientError(err: ClientError, limits: { headerTimeoutMs: number; requestTimeoutMs: number; maxHeaderSize: number }): { code: ErrorCode; message: string } | null {
  const code = err.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { code: 'request_timeout', message: `the request did not arrive in time: headers within ${limits.headerTimeoutMs} ms, all of it within ${limits.requestTimeoutMs} ms` };
  }
  if (code === 'HPE_HEADER_OVERFLOW') return { code: 'headers_too_large', message: `the request line and headers are larger than ${limits.maxHeaderSize} bytes` };
  if (code.startsWith('HPE_')) return { code: 'bad_request', message: `malformed HTTP request: ${err.reason ?? err.message} (${code})` };
  return null;
}

/** The server's 'clientError' listener: a JSON answer when none went out on the connection yet, then the socket is destroyed. */
export function proxyClientErrorHandler(limits: Parameters<typeof describeProxyClientError>[1]): (err: ClientError, socket: Socket) => void {
  return (err, socket) => {
    if (socket.destroyed) return;
    const answer = err.code === 'ECONNRESET' ? null : describeProxyClientError(err, limits);
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (answer && socket.writable && !inFlight?.headersSent) socket.write(rawJsonAnswer(answer.code, answer.message));
    socket.destroy();
  };
}
