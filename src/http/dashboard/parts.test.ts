import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html, trusted } from './html.js';
import { LoginLimiter, Sessions } from './sessions.js';
import { safeNext } from './login-routes.js';
import { stepsOf } from './steps.js';

test('html escapes every value, arrays included, and keeps nested html as it is', () => {
  const name = `<b>"Tom" & 'Jerry'</b>`;
  const out = html`<p title="${name}">${name}</p>${[html`<i>${'<x>'}</i>`, '<y>', 3, null, undefined, false]}${trusted('<hr>')}`;
  assert.equal(out.value, '<p title="&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;">&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p><i>&lt;x&gt;</i>&lt;y&gt;3<hr>');
});

test('a session ends after its idle time or its maximum age, and the oldest goes when there are too many', () => {
  let now = 0;
  const s = new Sessions({ idleMs: 100, maxAgeMs: 250, max: 2 }, () => now);
  const a = s.create('tok');
  now = 90;
  assert.equal(s.get(a.id)?.id, a.id, 'used within its idle time');
  now = 180;
  assert.ok(s.get(a.id), 'idle 90 of 100');
  now = 260;
  assert.equal(s.get(a.id), null, 'past its maximum age although in use');
  const b = s.create('tok');
  now = 361;
  assert.equal(s.get(b.id), null, 'idle too long');
  const c = s.create('tok');
  const d = s.create('tok');
  s.get(c.id);
  const e = s.create('tok');
  assert.equal(s.get(d.id), null, 'the least recently used went');
  assert.ok(s.get(c.id) && s.get(e.id));
  assert.notEqual(c.csrf, c.id);
});

test('the login limiter refuses an address after 5 failures until its window ends; a success clears it', () => {
  let now = 0;
  const l = new LoginLimiter({ failures: 5, windowMs: 1000, maxKeys: 100 }, () => now);
  for (let i = 0; i < 4; i++) l.failed('1.2.3.4');
  assert.equal(l.retryAfter('1.2.3.4'), 0);
  l.failed('1.2.3.4');
  assert.equal(l.retryAfter('1.2.3.4'), 1);
  assert.equal(l.retryAfter('5.6.7.8'), 0, 'other addresses are not limited');
  now = 1000;
  assert.equal(l.retryAfter('1.2.3.4'), 0, 'the window ended');
  l.failed('9.9.9.9');
  l.succeeded('9.9.9.9');
  for (let i = 0; i < 4; i++) l.failed('9.9.9.9');
  assert.equal(l.retryAfter('9.9.9.9'), 0);
});

test('after the login only a path on this site is followed', () => {
  assert.equal(safeNext('/jobs/3?x=1'), '/jobs/3?x=1');
  for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', null, undefined]) assert.equal(safeNext(bad), '/', String(bad));
});

test('steps from a log: started by step lines, ended by their done lines, failed when open at the end', () => {
  const lines = [
    { seq: 1, stream: 'step', line: 'fetch' },
    { seq: 2, stream: 'info', line: 'fetch: done in 12ms' },
    { seq: 3, stream: 'step', line: 'build: make' },
    { seq: 4, stream: 'out', line: 'build: make: done in 1s' },
  ];
  assert.deepEqual(stepsOf(lines, false).map((s) => [s.name, s.state, s.took]), [['fetch', 'done', '12ms'], ['build: make', 'running', null]]);
  assert.equal(stepsOf(lines, true)[1]?.state, 'failed', 'an output line does not end a step');
});
