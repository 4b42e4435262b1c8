import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedApp } from '../../test/helpers/served-app.js';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { SIMULATED_SENDERS, simulatedProvider } from '../webhooks/simulate.js';

// POST /api/repos/:repo/simulate through the real server on 127.0.0.1.
const SECRET = 'simulate-secret-0123';
const YAML = `repos:
  site: { url: 'https://user:pa55word@git.example.com/acme/site.git', secret: ${SECRET}, branches: [main, 'release/*'], tags: ['v*'], deploy: { path: ./srv } }
  open: { url: 'https://git.example.com/acme/open.git', insecure: true, deploy: { path: ./srv2 } }
  labs: { url: 'https://git.example.com/acme/labs.git', secret: ${SECRET}, providers: [gitlab], deploy: { path: ./srv3 } }
`;

async function simulate(s: { api(path: string, init?: RequestInit): Promise<Response> }, repo: string, body: unknown) {
  const res = await s.api(`/api/repos/${repo}/simulate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('every simulated sender goes through the pipeline: 202 with jobs, recorded in the ledger as that sender and marked simulated', async (t) => {
  const s = await servedApp(t, YAML);
  for (const sender of SIMULATED_SENDERS) {
    const out = await simulate(s, 'site', { sender, ref: 'refs/heads/main' });
    assert.equal(out.status, 202, `${sender}: ${JSON.stringify(out.body)}`);
    assert.equal(out.body.status, 'queued');
    const jobs = out.body.jobs as number[];
    assert.equal(jobs.length, 1);
    const d = s.store.getDelivery(out.body.ledger_id as number);
    assert.ok(d, sender);
    assert.equal(d.provider, simulatedProvider(sender), sender);
    assert.equal(d.status_code, 202);
    assert.equal(d.remote_addr, '127.0.0.1');
    assert.equal(d.headers['x-autopull-simulated'], 'api from 127.0.0.1');
    assert.deepEqual(d.jobs, jobs);
    const text = JSON.stringify(d.headers) + d.body.toString('utf8');
    assert.ok(!text.includes(SECRET), `${sender}: the secret is not stored`);
    assert.ok(!text.includes('pa55word'), `${sender}: the url's password is not in the payload`);
    assert.equal(s.store.getJob(jobs[0] as number)?.ref, 'refs/heads/main');
  }
  assert.ok(s.kicked.includes('site'));
});

test('simulate takes tags and branch names, and answers like the hook for a ref the repo does not track', async (t) => {
  const s = await servedApp(t, YAML);
  const tag = await simulate(s, 'site', { sender: 'gitlab', ref: 'refs/tags/v2.0' });
  assert.equal(tag.status, 202, JSON.stringify(tag.body));
  assert.equal(s.store.getJob((tag.body.jobs as number[])[0] as number)?.ref, 'refs/tags/v2.0');
  const bare = await simulate(s, 'site', { sender: 'github', ref: 'release/1.x' });
  assert.equal(bare.status, 202, JSON.stringify(bare.body));
  const untracked = await simulate(s, 'site', { sender: 'github', ref: 'refs/heads/feature' });
  assert.equal(untracked.status, 200);
  assert.equal(untracked.body.status, 'ignored');
  assert.match(untracked.body.message as string, /refs\/heads\/feature is not tracked by repo site/);
  assert.equal(s.store.getDelivery(untracked.body.ledger_id as number)?.outcome, 'ignored');
});

test('simulate refuses what it cannot do with a clear 4xx', async (t) => {
  const s = await servedApp(t, YAML);
  const unknown = await simulate(s, 'site', { sender: 'sourcehut', ref: 'refs/heads/main' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error, 'unknown_sender');
  assert.match(unknown.body.message as string, /"sourcehut" is not one autopull can simulate; known: github, gitlab, gitea/);
  const insecure = await simulate(s, 'open', { sender: 'github', ref: 'refs/heads/main' });
  assert.equal(insecure.status, 409);
  assert.match(insecure.body.message as string, /repo open has no secret/);
  const nowhere = await simulate(s, 'nope', { sender: 'github', ref: 'refs/heads/main' });
  assert.equal(nowhere.status, 404);
  const noRef = await simulate(s, 'site', { sender: 'github' });
  assert.equal(noRef.status, 400);
  assert.match(noRef.body.message as string, /ref/);
  const pr = await simulate(s, 'site', { sender: 'bitbucket', ref: 'refs/pull/1/head' });
  assert.equal(pr.status, 400);
  assert.match(pr.body.message as string, /Bitbucket pushes only branches and tags/);
  const badRef = await simulate(s, 'site', { sender: 'github', ref: 'refs/heads/a..b' });
  assert.equal(badRef.status, 400);
  assert.equal(badRef.body.error, 'no_push_data');
  assert.equal(s.store.listDeliveries().length, 1, 'only the one the pipeline refused is in the ledger');
  const noToken = await fetch(`${s.url}/api/repos/site/simulate`, { method: 'POST', body: '{"sender":"github","ref":"main"}' });
  assert.equal(noToken.status, 401);
});

test("a repo that takes only other senders refuses the simulated one as it would the real one, and the ledger says why", async (t) => {
  const s = await servedApp(t, YAML);
  const out = await simulate(s, 'labs', { sender: 'github', ref: 'refs/heads/main' });
  assert.equal(out.status, 400);
  assert.equal(out.body.error, 'unknown_sender');
  assert.match(out.body.message as string, /accepted here: GitLab/);
  const d = s.store.getDelivery(out.body.ledger_id as number);
  assert.equal(d?.outcome, 'unknown_sender');
  assert.ok(d?.headers['x-autopull-simulated']);
});

test('a real delivery cannot mark itself simulated', async (t) => {
  const s = await servedApp(t, YAML);
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://git.example.com/acme/site.git' }), SECRET);
  const res = await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: { ...d.headers, 'x-autopull-simulated': 'api from 127.0.0.1' }, body: d.body });
  assert.equal(res.status, 202);
  const [row] = s.store.listDeliveries();
  assert.equal(row?.headers['x-autopull-simulated'], undefined);
});
