import type { FastifyReply } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode } from '../lib/errors.js';

/** Every answer is JSON: `{ok: true, status, ...}` or `{ok: false, error, message}`. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(ERROR_STATUS[code]).send({ ok: false, error: code, message });
}

export function sendAppError(reply: FastifyReply, err: AppError): FastifyReply {
  return sendError(reply, err.code, err.message);
}
