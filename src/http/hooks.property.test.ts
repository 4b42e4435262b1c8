import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { fixture } from '../../test/helpers/senders.js';

// Random headers and bodies sent to /hooks never get a 5xx, and never queue a job without
// valid authentication (every repo here has a secret that no generated value contains).
const HEADER_NAMES = [
  'x-github-event', 'x-github-delivery', 'x-hub-signature', 'x-hub-signature-256', 'x-gitlab-event', 'x-gitlab-token',
  'x-event-key', 'x-hook-uuid', 'x-request-id', 'x-request-uuid', 'x-gitea-event', 'x-gitea-signature', 'x-forgejo-event',
  'x-forgejo-signature', 'x-gogs-event', 'x-gogs-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
  'x-autopull-token', 'authorization', 'user-agent', 'idempotency-key',
];
const CONTENT_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8', ''];
const EVENTS = ['push', 'ping', 'create', 'delete', 'Push Hook', 'Tag Push Hook', 'repo:push', 'repo:refs_changed', 'diagnostics:ping'];
const SAMPLES = [
  fixture('gitlab', 'push.json'),
  fixture('gitea', 'push.json'),
  fixture('gitea', 'delete-branch.json'),
  fixture('bitbucket-cloud', 'repo-push.json'),
  fixture('bitbucket-server', 'repo-refs-changed-update.json'),
  fixture('bitbucket-legacy', 'post-service.json'),
  fixture('azure-devops', 'git.push.json'),
  fixture('backlog', 'push.json'),
  fixture('generic', 'standard-webhooks-push.json'),
];

const json = fc.oneof(
  fc.constantFrom(...SAMPLES).map((s) => JSON.stringify(s)),
  fc.tuple(fc.constantFrom(...SAMPLES), fc.string(), fc.jsonValue()).map(([s, k, v]) => JSON.stringify({ ...s, [k]: v })),
  fc.json(),
  fc.string(),
);
const body = fc.oneof(json, json.map((j) => new URLSearchParams({ payload: j }).toString()), fc.string().map((s) => `payload=${s}`));
const headerValue = fc.oneof(fc.constantFrom(...EVENTS), fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), fc.constant('sha256=' + '0'.repeat(64)), fc.constant(''));
const headers = fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 8 });

test('random deliveries to /hooks never answer 5xx and never queue without valid authentication', async (t) => {
  const dir = tempDir(t);
  const config = parseConfigText(
    `data_dir: ./data
body_limit: 64KiB
repos:
  a: { url: 'http://example.com/mike/diaspora.git', secret: prop-secret-0123456789, branches: ['*'], tags: ['*'], deploy: { path: ./a } }
  b: { url: 'http://localhost:3000/example/example.git', secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, branches: ['*'], deploy: { path: ./b } }
`,
    join(dir, 'autopull.yml'),
    {},
  );
  const store = new Store(join(dir, 'data', 'autopull.db'));
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [] });
  t.after(async () => {
    await app.close();
    store.close();
  });
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('/hooks', '/hooks/a', '/hooks/b', '/hooks/a?token=x', '/hooks?token='), fc.constantFrom(...CONTENT_TYPES), headers, body, async (url, type, hs, payload) => {
      const all: Record<string, string> = { ...hs };
      if (type !== '') all['content-type'] = type;
      const res = await app.inject({ method: 'POST', url, headers: all, payload });
      assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
      const answer = res.json() as { ok: boolean; jobs?: number[] };
      assert.equal(typeof answer.ok, 'boolean');
      assert.equal(store.listJobs({ states: ['queued'] }).length, 0, `queued without auth: ${res.body}`);
    }),
    { numRuns: 400 },
  );
});
