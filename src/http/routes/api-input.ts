import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../../lib/errors.js';

/** Reading API input: a JSON body checked by a zod schema, whole numbers from the path or query. */

export function jsonBody<T>(req: FastifyRequest, schema: z.ZodType<T>): T {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  let value: unknown = {};
  if (raw.trim() !== '') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new AppError('bad_request', `body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('bad_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

export function intParam(value: string | undefined, name: string): number {
  if (value === undefined || !/^\d{1,15}$/.test(value)) throw new AppError('bad_request', `${name} must be a whole number, not "${String(value).slice(0, 40)}"`);
  return Number(value);
}

/** `?limit=`: 50 when absent, at most 1000. */
export function limitParam(value: string | undefined): number {
  return value === undefined ? 50 : Math.min(intParam(value, 'limit'), 1000);
}
