import type { FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';

/** An HTML form's fields (application/x-www-form-urlencoded); anything else is a 415. */
export function formBody(req: FastifyRequest): URLSearchParams {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  if (raw === '' && type === '') return new URLSearchParams();
  if (type !== 'application/x-www-form-urlencoded') throw new AppError('unsupported_media_type', `a form is sent as application/x-www-form-urlencoded, not "${type.slice(0, 60)}"`);
  return new URLSearchParams(raw);
}
