import { STATUS_CODES } from 'node:http';
import { ERROR_STATUS, type ErrorCode } from './errors.js';

/** The JSON body of every error answer: `{"ok": false, "error": code, "message": ...}`. */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ ok: false, error: code, message });
}

/**
 * One HTTP/1.1 answer in the JSON error shape, written on a raw socket (nothing parsed yet, or
 * parsing failed, or the connection was upgraded): it closes the connection.
 */
export function rawJsonAnswer(code: ErrorCode, message: string, extraHeaders = ''): string {
  const body = errorBody(code, message);
  const status = ERROR_STATUS[code];
  const reason = STATUS_CODES[status] ?? 'Error';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}connection: close\r\n\r\n${body}`;
}
