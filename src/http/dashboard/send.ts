import type { FastifyReply } from 'fastify';
import type { SafeHtml } from './html.js';

export function sendPage(reply: FastifyReply, page: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(page.value);
}
