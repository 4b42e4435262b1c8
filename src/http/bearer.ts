import type { FastifyRequest } from 'fastify';
import type { AppDeps } from './deps.js';
import { AppError } from '../lib/errors.js';
import { safeEqual } from '../webhooks/signature.js';

/**
 * The API's check, as an onRequest hook for a plugin whose routes all want
 * `Authorization: Bearer TOKEN`: auth_token, or one of the extra tokens (data_dir/local.token).
 * 401 without the header, 403 when it is wrong; checked before the body is read.
 */
export function bearerAuth(deps: AppDeps): (req: FastifyRequest) => Promise<void> {
  const tokens = [deps.config.auth_token, ...deps.apiTokens].filter((t): t is string => typeof t === 'string' && t.length > 0);
  return async (req) => {
    const header = req.headers.authorization;
    if (!header) throw new AppError('unauthorized', 'missing header Authorization: Bearer TOKEN (auth_token in the config)');
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
    if (!tokens.some((t) => safeEqual(given, t))) throw new AppError('forbidden', 'the bearer token does not match auth_token');
  };
}

