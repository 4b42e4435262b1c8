import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { hookApp, type HookApp } from '../../test/helpers/hook-app.js';
import { createRequire } from 'node:module';
import { githubDelivery, githubPush } from '../../test/helpers/github.js';
import { azureDelivery, fixture, gitlabDelivery } from '../../test/helpers/senders.js';

// Documented variants of senders beyond their main sample (docs/SENDER-SAMPLES.md lists
// which vendor sample each case uses): GitLab system hooks, older and newer Azure DevOps shapes.
const S = 'variant-secret-1234';
const EXAMPLES = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Record<string, unknown>[] }[];
const SYSTEM = { event: 'System Hook' };

const CONFIG = `auth_token: test-token-0123456789
repos:
  gl: { url: 'http://example.com/mike/diaspora.git', secret: ${S}, branches: [master], providers: [gitlab], deploy: { path: ./srv1 } }
  glsys: { url: 'http://example.com/jsmith/example.git', secret: ${S}, branches: [master], tags: ['v*'], providers: [gitlab], deploy: { path: ./srv2 } }
  azure: { url: 'https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git', secret: ${S}, branches: [main], providers: [azure-devops], deploy: { path: ./srv3 } }
  azvs: { url: 'https://fabrikam-fiber-inc.visualstudio.com/DefaultCollection/_git/Fabrikam-Fiber-Git', secret: ${S}, branches: [master], providers: [azure-devops], deploy: { path: ./srv4 } }
  azsp: { url: 'https://fabrikam-fiber-inc.visualstudio.com/DefaultCollection/_git/Fabrikam%20Fiber', secret: ${S}, branches: [master], providers: [azure-devops], deploy: { path: ./srv5 } }
`;

type Res = { status: number; body: Record<string, unknown> };

function queued(f: HookApp, res: Res, repo: string, ref: string, sha: string): void {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const ids = res.body.jobs as number[];
  assert.equal(ids.length, 1);
  const job = f.store.getJob(ids[0] as number);
  assert.deepEqual([job?.repo, job?.ref, job?.hint_sha], [repo, ref, sha]);
}

function answered(res: Res, status: number, what: string, message?: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(status < 300 ? res.body.status : res.body.error, what, JSON.stringify(res.body));
  if (message) assert.match(String(res.body.message), message);
}

test('GitLab system hooks: push and tag push deploy like project hooks, on /hooks/REPO and /hooks', async (t) => {
  const f = await hookApp(t, CONFIG);
  const push = fixture('gitlab', 'system-push.json');
  assert.equal(push.object_kind, undefined, 'system hooks send event_name, not object_kind');
  queued(f, await f.send('/hooks/gl', gitlabDelivery(push, S, SYSTEM)), 'gl', 'refs/heads/master', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
  queued(f, await f.send('/hooks', gitlabDelivery(push, S, SYSTEM)), 'gl', 'refs/heads/master', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
  // The tag sample's checkout_sha (the peeled commit) differs from its after: the hint is the commit.
  const tag = fixture('gitlab', 'system-tag_push.json');
  queued(f, await f.send('/hooks', gitlabDelivery(tag, S, SYSTEM)), 'glsys', 'refs/tags/v1.0.0', '5937ac0a7beb003549fc5fd26fc247adbce4a52e');
  answered(await f.send('/hooks/gl', gitlabDelivery(push, 'wrong', SYSTEM)), 403, 'token_mismatch', /X-Gitlab-Token does not match/);
  answered(await f.send('/hooks', gitlabDelivery(push, null, SYSTEM)), 401, 'token_missing');
  answered(await f.send('/hooks', gitlabDelivery(fixture('gitlab', 'system-user_create.json'), null, SYSTEM)), 401, 'token_missing');
  assert.deepEqual([...new Set(f.store.listJobs().map((j) => j.repo))].sort(), ['gl', 'glsys']);
});

test('GitLab system hooks on /hooks: a push of a project no repo deploys is 200 ignored (the hook sends every project\'s); a project hook\'s is still 404', async (t) => {
  const f = await hookApp(t, CONFIG);
  const other = structuredClone(fixture('gitlab', 'system-push.json')) as { project: Record<string, unknown>; repository: Record<string, unknown> };
  for (const part of [other.project, other.repository]) {
    for (const [k, v] of Object.entries(part)) if (typeof v === 'string') part[k] = v.replace('mike/diaspora', 'someone/else');
  }
  answered(await f.send('/hooks', gitlabDelivery(other, S, SYSTEM)), 200, 'ignored', /no configured repo matches .*system hook sends every project/);
  answered(await f.send('/hooks', gitlabDelivery(other, S)), 404, 'no_matching_repo');
  answered(await f.send('/hooks', gitlabDelivery(other, 'wrong', SYSTEM)), 403, 'token_mismatch');
  assert.deepEqual(f.store.listJobs(), []);
});

test('GitLab system hooks: every other event answers 200 "not a push", on /hooks too, and queues nothing', async (t) => {
  const f = await hookApp(t, CONFIG);
  for (const [file, name] of [['system-project_create.json', 'project_create'], ['system-user_create.json', 'user_create'], ['system-merge_request.json', 'merge_request']]) {
    const payload = fixture('gitlab', file as string);
    answered(await f.send('/hooks', gitlabDelivery(payload, S, SYSTEM)), 200, 'ignored', new RegExp(`system hook event "${name}" is not a push`));
    answered(await f.send('/hooks/glsys', gitlabDelivery(payload, S, SYSTEM)), 200, 'ignored', /is not a push/);
  }
  const update = fixture('gitlab', 'system-repository_update.json');
  answered(await f.send('/hooks', gitlabDelivery(update, S, SYSTEM)), 200, 'ignored', /"repository_update" is not a push; turn on "Push events"/);
  answered(await f.send('/hooks/glsys', gitlabDelivery(update, S, SYSTEM)), 200, 'ignored', /repository_update/);
  // A project hook's merge request still says which hook it came from.
  answered(await f.send('/hooks/gl', gitlabDelivery(fixture('gitlab', 'system-merge_request.json'), S, { event: 'Merge Request Hook' })), 200, 'ignored', /event "Merge Request Hook" \(merge_request\) is not a push/);
  assert.equal(f.store.listJobs().length, 0);
});

test('Azure DevOps: a test is only a zero subscription id; older shapes and newer publisher ids deploy', async (t) => {
  const f = await hookApp(t, CONFIG);
  const docs = fixture('azure-devops', 'git.push.json');
  assert.equal(docs.subscriptionId, undefined, 'the documentation sample has no subscription id');
  queued(f, await f.send('/hooks/azure', azureDelivery(docs, S)), 'azure', 'refs/heads/main', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
  // The TFS 2017 / VSTS sample: visualstudio.com URLs, `_apis/git/repositories`.
  const tfs = fixture('azure-devops', 'git.push-tfs2017.json');
  queued(f, await f.send('/hooks', azureDelivery(tfs, S)), 'azvs', 'refs/heads/master', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
  answered(await f.send('/hooks/azvs', azureDelivery({ ...tfs, id: 'x-1' }, 'wrong')), 403, 'token_mismatch');
  // The service's "Test" button: sample data (a repo that is not yours) with a zero subscription id.
  const test = fixture('azure-devops', 'git.push-test-notification.json');
  answered(await f.send('/hooks/azure', azureDelivery(test, S)), 200, 'ping', /test notification/);
  answered(await f.send('/hooks', azureDelivery({ ...test, id: 'test-2' }, S)), 200, 'ping');
  answered(await f.send('/hooks', azureDelivery({ ...test, id: 'test-3' }, 'wrong')), 403, 'token_mismatch');
  // A real subscription id is a real push, whatever else the body holds.
  queued(f, await f.send('/hooks/azure', azureDelivery({ ...docs, id: 'real-1', subscriptionId: 'aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e' }, S)), 'azure', 'refs/heads/main', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
  // Newest samples: publisherId "azure-devops", and a zero GUID as the event id (not a delivery id: no duplicates).
  const newer = { ...docs, publisherId: 'azure-devops', id: '00000000-0000-0000-0000-000000000000' };
  queued(f, await f.send('/hooks/azure', azureDelivery(newer, S)), 'azure', 'refs/heads/main', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
  queued(f, await f.send('/hooks', azureDelivery(newer, S)), 'azure', 'refs/heads/main', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
});

test('Azure DevOps 1.0-preview shape: no resourceContainers, a repo name with a space in remoteUrl', async (t) => {
  const f = await hookApp(t, CONFIG);
  const tfs = fixture('azure-devops', 'git.push-tfs2017.json');
  const resource = tfs.resource as Record<string, unknown>;
  const repository = { ...(resource.repository as object), name: 'Fabrikam Fiber', remoteUrl: 'https://fabrikam-fiber-inc.visualstudio.com/DefaultCollection/_git/Fabrikam Fiber' };
  const { resourceContainers: _dropped, ...rest } = tfs;
  const preview = { ...rest, id: 'preview-1', subscriptionId: 'a36104aa-ef6c-4643-ac08-5c42fd2115d3', notificationId: 7, resourceVersion: '1.0-preview.1', resource: { ...resource, repository } };
  queued(f, await f.send('/hooks', azureDelivery(preview, S)), 'azsp', 'refs/heads/master', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
  queued(f, await f.send('/hooks/azsp', azureDelivery({ ...preview, id: 'preview-2' }, S)), 'azsp', 'refs/heads/master', '33b55f7cb7e7e245323987634f960cf4a6e6bc74');
});

test('Bitbucket Data Center "Test connection": diagnostics:ping with an empty body and no content type is a ping; on /hooks too', async (t) => {
  const f = await hookApp(t, `${CONFIG}  bbs: { url: 'https://bitbucketserver/scm/myproject/test-repo.git', secret: ${S}, branches: [master], deploy: { path: ./srv6 } }\n`);
  const sig = `sha256=${createHmac('sha256', S).update('').digest('hex')}`;
  const headers = { 'x-event-key': 'diagnostics:ping', 'x-request-id': randomUUID(), 'x-hub-signature': sig };
  answered(await f.send('/hooks/bbs', { headers, body: '' }), 200, 'ping');
  answered(await f.send('/hooks', { headers: { ...headers, 'x-request-id': randomUUID() }, body: '' }), 200, 'ping');
  answered(await f.send('/hooks/bbs', { headers: { ...headers, 'x-hub-signature': 'sha256=00' }, body: '' }), 403, 'signature_mismatch');
});

test('GitHub: an old hook that sends only the sha1 X-Hub-Signature, form-encoded, deploys; a sha1 over other bytes does not', async (t) => {
  const f = await hookApp(t, `repos:\n  gh: { url: 'https://github.com/acme/blog.git', secret: ${S}, deploy: { path: ./srv0 } }\n`);
  const d = githubDelivery('push', githubPush({ after: 'a'.repeat(40), cloneUrl: 'https://github.com/acme/blog.git' }), null, { form: true });
  const sha1 = (body: string) => `sha1=${createHmac('sha1', S).update(body).digest('hex')}`;
  queued(f, await f.send('/hooks/gh', { headers: { ...d.headers, 'x-hub-signature': sha1(d.body) }, body: d.body }), 'gh', 'refs/heads/main', 'a'.repeat(40));
  const json = decodeURIComponent(d.body.slice('payload='.length).replace(/\+/g, ' '));
  answered(await f.send('/hooks/gh', { headers: { ...d.headers, 'x-github-delivery': randomUUID(), 'x-hub-signature': sha1(json) }, body: d.body }), 403, 'signature_mismatch', /sha1/);
});

test('GitHub: an organization hook ping (no repository) on POST /hooks answers 200 ping once a repo secret verifies it', async (t) => {
  const f = await hookApp(t, `repos:\n  gh: { url: 'https://github.com/acme/blog.git', secret: ${S}, deploy: { path: ./srv0 } }\n`);
  const orgPing = structuredClone(EXAMPLES.find((e) => e.name === 'ping')?.examples.find((x) => (x.hook as { type?: string } | undefined)?.type === 'Organization'));
  assert.ok(orgPing && orgPing.repository === undefined, 'the octokit examples hold an organization ping without a repository');
  answered(await f.send('/hooks', githubDelivery('ping', orgPing, S)), 200, 'ping');
  answered(await f.send('/hooks', githubDelivery('ping', orgPing, 'wrong')), 403, 'signature_mismatch');
  // A push still has to name its repository.
  answered(await f.send('/hooks', githubDelivery('push', { ref: 'refs/heads/main', after: 'a'.repeat(40) }, S)), 400, 'no_push_data', /no "repository"/);
});
