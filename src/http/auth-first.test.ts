import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countLargeParses, hookApp, type HookApp } from '../../test/helpers/hook-app.js';
import { githubDelivery, githubPush, type Delivery } from '../../test/helpers/github.js';
import {
  azureDelivery,
  bitbucketCloudDelivery,
  bitbucketServerDelivery,
  fixture,
  formDelivery,
  giteaLikeDelivery,
  gitlabDelivery,
  gitlabSignedDelivery,
  standardWebhooksDelivery,
} from '../../test/helpers/senders.js';

// A large delivery must be authenticated on its raw bytes (or its token) before its body is
// parsed, and parsed once after that: parsing is the costly part of a delivery, and whoever
// can reach the port could otherwise make the server parse megabytes for nothing.
const S = 'auth-first-secret-1';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = 1_714_000_000;
/** A JSON text at least this long is a full parse of one of these bodies (their texts are ≥ 400 kB). */
const LARGE = 200_000;

// Rate limits off: these floods are about what a refused delivery costs (limits.rate: hook-rate.test.ts).
const CONFIG = `body_limit: 2MiB
limits: { rate: off }
repos:
  gh: { url: 'https://github.com/acme/blog.git', secret: ${S}, deploy: { path: ./srv0 } }
  gl: { url: 'http://example.com/mike/diaspora.git', secret: ${S}, branches: [master], providers: [gitlab], deploy: { path: ./srv1 } }
  glsig: { url: 'http://example.com/mike/diaspora.git', secret: ${WHSEC}, branches: [master], deploy: { path: ./srv2 } }
  bbc: { url: 'https://bitbucket.org/team_name/repo_name.git', secret: ${S}, branches: [name-of-branch], deploy: { path: ./srv3 } }
  bbs: { url: 'https://bitbucketserver/scm/myproject/test-repo.git', secret: ${S}, branches: [master], deploy: { path: ./srv4 } }
  bbl: { url: 'https://bitbucket.org/marcus/project-x.git', secret: ${S}, branches: [master], deploy: { path: ./srv5 } }
  gitea: { url: 'http://localhost:3000/example/example.git', secret: ${S}, branches: [master], deploy: { path: ./srv6 } }
  gogs: { url: 'http://localhost:3000/unknwon/webhooks.git', secret: ${S}, branches: [develop], deploy: { path: ./srv8 } }
  backlog: { url: 'https://example.backlog.com/git/PROJ/website.git', secret: ${S}, branches: [master], deploy: { path: ./srv9 } }
  azure: { url: 'https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git', secret: ${S}, branches: [main], deploy: { path: ./srv10 } }
  generic: { url: 'https://git.example.com/acme/tool.git', secret: ${WHSEC}, branches: [main], deploy: { path: ./srv11 } }
`;

/** A vendor payload with `bytes` of small objects added: slow to parse for its size. */
function big<T extends object>(payload: T, bytes: number): T {
  return { ...payload, filler: Array.from({ length: Math.ceil(bytes / 8) }, (_, i) => ({ a: i % 10 })) };
}

const MiB = 1 << 20;
/** Form bodies double in size when percent-encoded: half as much JSON makes ~1 MiB too. */
const FORM = 450 * 1024;

interface Case {
  name: string;
  repo: string;
  /** Query string carrying the token, for senders that cannot sign. */
  query?: (token: string) => string;
  make(secret: string): Delivery;
  /** The secret that forges a wrong credential (Standard Webhooks needs a whsec_ key). */
  wrong?: string;
}

function cases(): Case[] {
  const gh = big(githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), MiB);
  const ghForm = big(githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), FORM);
  const gitea = big(fixture('gitea', 'push.json'), MiB);
  const giteaForm = big(fixture('gitea', 'push.json'), FORM);
  const wrongWhsec = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  return [
    { name: 'GitHub JSON', repo: 'gh', make: (s) => githubDelivery('push', gh, s) },
    { name: 'GitHub form', repo: 'gh', make: (s) => githubDelivery('push', ghForm, s, { form: true }) },
    { name: 'Gitea JSON', repo: 'gitea', make: (s) => giteaLikeDelivery('gitea', 'push', gitea, s) },
    { name: 'Gitea form', repo: 'gitea', make: (s) => giteaLikeDelivery('gitea', 'push', giteaForm, s, { form: true }) },
    { name: 'Gogs', repo: 'gogs', make: (s) => giteaLikeDelivery('gogs', 'push', big(fixture('gogs', 'push.json'), MiB), s) },
    { name: 'Bitbucket Cloud', repo: 'bbc', make: (s) => bitbucketCloudDelivery(big(fixture('bitbucket-cloud', 'repo-push.json'), MiB), s) },
    { name: 'Bitbucket Data Center', repo: 'bbs', make: (s) => bitbucketServerDelivery(big(fixture('bitbucket-server', 'repo-refs-changed-update.json'), MiB), s) },
    { name: 'GitLab token', repo: 'gl', make: (s) => gitlabDelivery(big(fixture('gitlab', 'push.json'), MiB), s) },
    { name: 'GitLab signing token', repo: 'glsig', make: (s) => gitlabSignedDelivery(big(fixture('gitlab', 'push.json'), MiB), s, NOW), wrong: wrongWhsec },
    { name: 'Standard Webhooks', repo: 'generic', make: (s) => standardWebhooksDelivery(big(fixture('generic', 'standard-webhooks-push.json'), MiB), s, NOW), wrong: wrongWhsec },
    { name: 'Azure DevOps (Basic auth)', repo: 'azure', make: (s) => azureDelivery(big(fixture('azure-devops', 'git.push.json'), MiB), s) },
    { name: 'Backlog (?token=)', repo: 'backlog', query: (tok) => `?token=${tok}`, make: () => formDelivery(big(fixture('backlog', 'push.json'), FORM)) },
    { name: 'Bitbucket POST service (?token=)', repo: 'bbl', query: (tok) => `?token=${tok}`, make: () => formDelivery(big(fixture('bitbucket-legacy', 'post-service.json'), FORM)) },
  ];
}

async function sendCase(f: HookApp, c: Case, path: string, secret: string) {
  const d = c.make(secret);
  assert.ok(d.body.length > 900_000 && d.body.length < 2 * MiB, `${c.name}: body of ${d.body.length} bytes`);
  return f.send(`${path}${c.query ? c.query(secret) : ''}`, d);
}

test('a large delivery with a wrong signature or token is refused without parsing its body; a good one is parsed once', async (t) => {
  const f = await hookApp(t, CONFIG, { now: new Date(NOW * 1000) });
  const parses = countLargeParses(t, LARGE);
  for (const c of cases()) {
    const secret = c.repo === 'glsig' || c.repo === 'generic' ? WHSEC : S;
    for (const path of [`/hooks/${c.repo}`, '/hooks']) {
      parses.reset();
      const bad = await sendCase(f, c, path, c.wrong ?? 'not-the-secret');
      assert.equal(bad.status, 403, `${c.name} ${path}: ${JSON.stringify(bad.body)}`);
      assert.equal(parses.count, 0, `${c.name} ${path}: a wrong credential must be refused before any full parse`);
      parses.reset();
      const good = await sendCase(f, c, path, secret);
      assert.ok(good.status >= 200 && good.status < 300, `${c.name} ${path}: ${JSON.stringify(good.body)}`);
      assert.equal(parses.count, 1, `${c.name} ${path}: an authenticated delivery is parsed exactly once`);
    }
  }
});

test('a large delivery with no credential to a repo that has a secret is refused without parsing', async (t) => {
  const f = await hookApp(t, CONFIG, { now: new Date(NOW * 1000) });
  const parses = countLargeParses(t, LARGE);
  const body = JSON.stringify(big(fixture('backlog', 'push.json'), MiB));
  for (const path of ['/hooks/backlog', '/hooks/azure', '/hooks']) {
    const res = await f.send(path, { headers: { 'content-type': 'application/json' }, body });
    assert.ok(res.status === 401 || res.status === 400, `${path}: ${JSON.stringify(res.body)}`);
  }
  const azure = azureDelivery(big(fixture('azure-devops', 'git.push.json'), MiB), null);
  assert.equal((await f.send('/hooks/azure', azure)).body.error, 'token_missing');
  assert.equal(parses.count, 0);
});

test('/healthz answers while large wrong-signature deliveries are in flight, and none of them is parsed', async (t) => {
  const f = await hookApp(t, CONFIG);
  const parses = countLargeParses(t, LARGE);
  const url = await f.app.listen({ host: '127.0.0.1', port: 0 });
  const d = githubDelivery('push', big(githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), MiB), 'forged');
  const flood = Array.from({ length: 8 }, async () => {
    const res = await fetch(`${url}/hooks/gh`, { method: 'POST', headers: d.headers, body: d.body });
    return res.status;
  });
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await Promise.all(flood), Array(8).fill(403));
  assert.equal(parses.count, 0);
});
