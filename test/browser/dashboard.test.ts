import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { browserForFile, dashboardServer, logIn, newPage, pageProblems, type DashboardServer } from '../helpers/dashboard.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/app.js';
import { githubDelivery, githubPush } from '../helpers/github.js';

// The dashboard in Debian's chromium (headless, driven by playwright-core), against the real
// app, store and worker on 127.0.0.1.

const browserOf = browserForFile();

/** A project whose build waits (bounded) for a file the test writes: the job runs while the test looks. */
function gated(t: { after(fn: () => unknown): void }) {
  const go = join(tempDir(t), 'go');
  const build = ['echo before-the-gate', `for i in $(seq 1 600); do [ -f ${go} ] && break; sleep 0.05; done; [ -f ${go} ]`, 'echo after-the-gate'];
  return { build, open: () => writeFileSync(go, '') };
}

/** The seqs of the log lines the page shows, in order. */
function shownSeqs(page: Page): Promise<number[]> {
  return page.locator('#log .ln').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
}

function storedSeqs(s: DashboardServer, job: number): number[] {
  return s.store.logsAfter(job).map((l) => l.seq);
}

test('log in with the keyboard; a wrong token is refused and opens nothing', async (t) => {
  const s = await dashboardServer(t);
  const page = await newPage(browserOf());
  const csp = pageProblems(page);
  await page.goto(`${s.url}/`);
  assert.match(page.url(), /\/login\?next=%2F$/);
  await page.keyboard.type('wrong-token-wrong-token');
  await page.keyboard.press('Enter');
  await page.locator('#login-error').waitFor();
  assert.match(await page.locator('#login-error').innerText(), /not the one autopull has/);
  assert.match(page.url(), /\/login$/);
  assert.equal((await page.context().cookies()).some((c) => c.name === 'autopull_session'), false);

  await page.getByLabel('Token').fill(s.p.token);
  await Promise.all([page.waitForURL(`${s.url}/`), page.keyboard.press('Enter')]);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const cookie = (await page.context().cookies()).find((c) => c.name === 'autopull_session');
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, 'Strict');
  // The first Tab reaches the skip link, which moves focus to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate('document.activeElement?.id'), 'main');
  assert.deepEqual(csp, []);
});

test('simulate a push from the form and watch the job reach succeeded in the live log; the overview then shows the commit live', async (t) => {
  const gate = gated(t);
  const s = await dashboardServer(t, { build: gate.build });
  const sha = s.p.pushCommit({ 'index.html': 'v1' });
  const page = await newPage(browserOf());
  const csp = pageProblems(page);
  await logIn(page, s.url, s.p.token, '/repos/site/simulate');
  await page.getByLabel('Sender').selectOption('gitlab');
  assert.equal(await page.getByLabel('Ref').inputValue(), 'refs/heads/main');
  await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.getByRole('button', { name: 'Send the simulated push' }).click()]);
  const job = Number(/\/jobs\/(\d+)$/.exec(page.url())?.[1]);
  assert.notEqual(await page.locator('#job').getAttribute('data-state'), 'succeeded', 'still running when the page came');

  await page.locator('#log .ln', { hasText: 'before-the-gate' }).first().waitFor();
  gate.open();
  await page.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
  await page.locator('#log .ln', { hasText: `${sha.slice(0, 7)} is live` }).waitFor();
  assert.equal(await page.locator('#steps li[data-state="running"]').count(), 0);
  assert.ok((await page.locator('#steps li[data-state="done"]').count()) >= 4);
  assert.deepEqual(await shownSeqs(page), storedSeqs(s, job), 'every line once, in order');

  await page.goto(`${s.url}/`);
  const card = page.locator('#repo-site');
  assert.match(await card.innerText(), new RegExp(`Live\\s+${sha.slice(0, 7)}`));
  assert.deepEqual(csp, []);
});

test('the deliveries page lists the simulated delivery with our answer and why, and a refused one appears live', async (t) => {
  const s = await dashboardServer(t);
  s.p.pushCommit({ 'index.html': 'v1' });
  const page = await newPage(browserOf());
  await logIn(page, s.url, s.p.token, '/repos/site/simulate');
  await page.getByLabel('Ref').fill('refs/heads/feature');
  await Promise.all([page.waitForURL(/\/deliveries\/\d+$/), page.getByRole('button', { name: 'Send the simulated push' }).click()]);
  assert.match(await page.locator('main').innerText(), /200\s+ignored[\s\S]*Why: refs\/heads\/feature is not tracked by repo site \(branches: main\)/);

  await page.getByRole('link', { name: 'Deliveries' }).first().click();
  await page.waitForURL(`${s.url}/deliveries`);
  const row = page.locator('tr[data-delivery]').first();
  assert.match(await row.innerText(), /github[\s\S]*simulated[\s\S]*200\s+ignored[\s\S]*not tracked by repo site/);
  // A delivery with a wrong signature, sent while the page is open, shows without a reload.
  await page.locator('#live-status', { hasText: 'live' }).waitFor();
  const forged = githubDelivery('push', githubPush({ after: 'b'.repeat(40), cloneUrl: s.p.remote }), 'not-the-secret');
  assert.equal((await fetch(`${s.url}/hooks/site`, { method: 'POST', headers: forged.headers, body: forged.body })).status, 403);
  await page.locator('tr[data-delivery]', { hasText: 'signature_mismatch' }).waitFor();
  await page.locator('tr[data-delivery]', { hasText: 'signature_mismatch' }).getByRole('link').first().click();
  assert.match(await page.locator('main').innerText(), /403\s+signature_mismatch[\s\S]*Why: X-Hub-Signature-256 does not match the secret of repo site/);
  assert.match(await page.locator('table.headers').innerText(), /x-hub-signature-256\s+\[redacted\]/);
});

test('a form post without its CSRF token is refused, and so is an API change without the CSRF header', async (t) => {
  const s = await dashboardServer(t);
  const page = await newPage(browserOf());
  await logIn(page, s.url, s.p.token, '/repos/site/simulate');
  // The form as the page has it, less its hidden _csrf field, posted by the browser itself
  // (form.submit() skips dashboard.js, which would send it through the API).
  await Promise.all([
    page.waitForURL(`${s.url}/repos/site/simulate`),
    page.locator('form[action$="/simulate"]').evaluate((f) => {
      f.querySelector('input[name="_csrf"]')?.remove();
      (f as unknown as { submit(): void }).submit();
    }),
  ]);
  await page.getByRole('heading', { name: 'Refused' }).waitFor();
  assert.match(await page.locator('main').innerText(), /missing CSRF token/);
  const api = await page.evaluate(async () => (await fetch('/api/repos/site/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sender":"github","ref":"main"}' })).status);
  assert.equal(api, 403);
  assert.equal(s.store.listDeliveries().length, 0, 'nothing was sent');
});

test('the log stream resumes after the connection drops: no line lost, none twice', async (t) => {
  const gate = gated(t);
  const s = await dashboardServer(t, { build: gate.build });
  s.p.pushCommit({ 'index.html': 'v1' });
  const page = await newPage(browserOf());
  const streams: Record<string, string>[] = [];
  page.on('request', (r) => {
    if (/\/api\/jobs\/\d+\/events/.test(r.url())) void r.allHeaders().then((h) => streams.push({ ...h, url: r.url() }));
  });
  await logIn(page, s.url, s.p.token, '/repos/site/simulate');
  await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.getByRole('button', { name: 'Send the simulated push' }).click()]);
  const job = Number(/\/jobs\/(\d+)$/.exec(page.url())?.[1]);
  await page.locator('#log .ln', { hasText: 'before-the-gate' }).first().waitFor();
  const before = await shownSeqs(page);

  s.app.server.closeAllConnections();
  await page.locator('#log-status', { hasText: 'reconnecting' }).waitFor();
  await waitUntil('the stream to come back', () => streams.length >= 2);
  const again = streams[1] as Record<string, string>;
  assert.equal(again['last-event-id'], String(before.at(-1)), 'it asks for the lines after the last one it has');
  await page.locator('#log-status', { hasText: 'live' }).waitFor();
  gate.open();
  await page.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
  await page.locator('#log .ln', { hasText: 'after-the-gate' }).first().waitFor();
  assert.deepEqual(await shownSeqs(page), storedSeqs(s, job));
});

test('readable on a phone (no sideways scrolling) and in a dark scheme', async (t) => {
  const s = await dashboardServer(t);
  s.p.pushCommit({ 'index.html': 'v1' });
  const phone = await newPage(browserOf(), 390, 844);
  await logIn(phone, s.url, s.p.token, '/repos/site/simulate');
  await Promise.all([phone.waitForURL(/\/jobs\/\d+$/), phone.getByRole('button', { name: 'Send the simulated push' }).click()]);
  await phone.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
  for (const path of [new URL(phone.url()).pathname, '/', '/deliveries', '/deliveries/1']) {
    await phone.goto(`${s.url}${path}`);
    const wide = await phone.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(wide <= 390, `${path} is ${wide} px wide`);
  }
  const light = await phone.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  await phone.emulateMedia({ colorScheme: 'dark' });
  const dark = await phone.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  assert.notEqual(light, dark);
  const [r, g, b] = (dark.match(/\d+/g) ?? []).map(Number);
  assert.ok((r ?? 255) + (g ?? 255) + (b ?? 255) < 120, `dark background ${dark}`);
});
