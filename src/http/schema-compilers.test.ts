import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { parseConfigText } from '../config/load.js';
import { Store } from '../store/store.js';
import { silentLogger } from '../lib/log.js';
import { tempDir } from '../../test/helpers/tmp.js';

// fastify's schema compilers are loaded only when a route has a schema: one that does still
// validates its input and serialises its answer as fastify's defaults would.
test('a route with a schema is validated and serialised by the compilers loaded on demand', async (t) => {
  const dir = tempDir(t);
  const config = parseConfigText('data_dir: ./data\nrepos: {}\n', join(dir, 'autopull.yml'), {});
  const store = new Store(join(dir, 'data', 'autopull.db'));
  t.after(() => store.close());
  const app = await buildApp({ config, store, logger: silentLogger(), kick: () => {}, apiTokens: [] });
  t.after(() => app.close());
  app.get('/typed', {
    schema: {
      querystring: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] },
      response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
    },
  }, async (req) => ({ n: (req.query as { n: number }).n, dropped: 'not in the response schema' }));
  const bad = await app.inject({ method: 'GET', url: '/typed?n=0' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error, 'bad_request');
  assert.match(bad.json().message, /must be >= 1/);
  const good = await app.inject({ method: 'GET', url: '/typed?n=7' });
  assert.equal(good.statusCode, 200);
  assert.deepEqual(good.json(), { n: 7 }, 'the query was coerced to an integer and the answer serialised by its schema');
});
