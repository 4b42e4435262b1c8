import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signStandardWebhook } from '../../src/webhooks/standard-webhooks.js';
import type { Delivery } from './github.js';

/** A vendor sample from test/fixtures/payloads/<sender>/<file> (see SOURCES.md there), parsed fresh. */
export function fixture(sender: string, file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/payloads/${sender}/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

const hex = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest('hex');
const json = (payload: unknown) => JSON.stringify(payload);
const form = (text: string) => new URLSearchParams({ payload: text }).toString();

export function gitlabDelivery(payload: unknown, token: string | null, opts: { event?: string; id?: string } = {}): Delivery {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-gitlab-event': opts.event ?? 'Push Hook', 'idempotency-key': opts.id ?? randomUUID(), 'user-agent': 'GitLab/17.0.0' };
  if (token !== null) headers['x-gitlab-token'] = token;
  return { headers, body: json(payload) };
}

/** GitLab with a signing token: Standard Webhooks headers (webhook-id equals Idempotency-Key). */
export function gitlabSignedDelivery(payload: unknown, signingToken: string, timestamp: number): Delivery {
  const id = randomUUID();
  const body = json(payload);
  return {
    headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'idempotency-key': id, 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(signingToken, id, timestamp, body) },
    body,
  };
}

export function bitbucketCloudDelivery(payload: unknown, secret: string | null, event = 'repo:push'): Delivery {
  const body = json(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Bitbucket-Webhooks/2.0', 'x-event-key': event, 'x-hook-uuid': randomUUID(), 'x-request-uuid': randomUUID(), 'x-attempt-number': '1' };
  if (secret !== null) headers['x-hub-signature'] = `sha256=${hex(secret, body)}`;
  return { headers, body };
}

export function bitbucketServerDelivery(payload: unknown, secret: string | null, event = 'repo:refs_changed'): Delivery {
  const body = json(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8', 'x-event-key': event, 'x-request-id': randomUUID() };
  if (secret !== null) headers['x-hub-signature'] = `sha256=${hex(secret, body)}`;
  return { headers, body };
}

/** Gitea, Forgejo or Gogs: the HMAC covers the JSON text, also when the body is `payload=`. */
export function giteaLikeDelivery(sender: 'gitea' | 'forgejo' | 'gogs', event: string, payload: unknown, secret: string | null, opts: { form?: boolean; id?: string } = {}): Delivery {
  const text = json(payload);
  const sig = secret === null ? '' : hex(secret, text);
  const id = opts.id ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-gogs-delivery': id,
    'x-gogs-event': event,
    'x-gogs-signature': sig,
    'x-github-delivery': id,
    'x-github-event': event,
  };
  if (sender !== 'gogs') {
    Object.assign(headers, { 'x-gitea-delivery': id, 'x-gitea-event': event, 'x-gitea-signature': sig, 'x-hub-signature-256': `sha256=${sig}` });
  }
  if (sender === 'forgejo') Object.assign(headers, { 'x-forgejo-delivery': id, 'x-forgejo-event': event, 'x-forgejo-signature': sig });
  return { headers, body: opts.form ? form(text) : text };
}

/** Senders that cannot sign: form `payload=` body; the token goes on the URL. */
export function formDelivery(payload: unknown): Delivery {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(json(payload)) };
}

export function azureDelivery(payload: unknown, password: string | null): Delivery {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (password !== null) headers.authorization = `Basic ${Buffer.from(`azure:${password}`).toString('base64')}`;
  return { headers, body: json(payload) };
}

export function standardWebhooksDelivery(payload: unknown, secret: string, timestamp: number, id = `msg_${randomUUID()}`): Delivery {
  const body = json(payload);
  return { headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(secret, id, timestamp, body) }, body };
}
