import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { dashboardServer, launchBrowser, logIn, newPage, type DashboardServer } from '../helpers/dashboard.js';
import { waitUntil } from '../helpers/app.js';

// The repo page, the redeliver button and the one-time login link in Debian's chromium
// (headless, playwright-core), against the real app, store and worker on 127.0.0.1.

let browser: Browser;
const cleanups: (() => unknown)[] = [];
before(async () => {
  browser = await launchBrowser({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const LONG = { timeout: 30_000 };
const BOUND = { timeout: 120_000 };

/** Content Security Policy complaints and script errors in the page: there must be none. */
function problems(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text());
  });
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}

/** A push of `files` simulated through the API (as the test's own client), run to its end by the worker. */
async function deployed(s: DashboardServer, files: Record<string, string>): Promise<{ sha: string; job: number }> {
  const sha = s.p.pushCommit(files);
  const res = await fetch(`${s.url}/api/repos/site/simulate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.p.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sender: 'github', ref: 'refs/heads/main' }),
  });
  const [job] = ((await res.json()) as { jobs: number[] }).jobs as [number];
  await waitUntil(`job ${job} to end`, () => s.store.getJob(job)?.state === 'succeeded' || s.store.getJob(job)?.state === 'failed', 30_000);
  assert.equal(s.store.getJob(job)?.state, 'succeeded', s.store.getJob(job)?.reason ?? '');
  return { sha, job };
}

test('the repo page shows the new release marked live after a simulated push, without a reload', BOUND, async (t) => {
  const s = await dashboardServer(t);
  const first = await deployed(s, { 'index.html': 'v1' });
  const page = await newPage(browser);
  const seen = problems(page);
  await logIn(page, s.url, s.p.token, '/');
  await Promise.all([page.waitForURL(`${s.url}/repos/site`), page.locator('#repo-site h2 a').click()]);
  assert.match((await page.locator('tr[data-current="yes"]').getAttribute('data-release')) ?? '', new RegExp(`-${first.sha.slice(0, 7)}$`));
  await page.locator('#live-status', { hasText: 'live' }).waitFor();

  const second = await deployed(s, { 'index.html': 'v2' });
  const live = page.locator(`tr[data-current="yes"][data-release$="-${second.sha.slice(0, 7)}"]`);
  await live.waitFor(LONG);
  assert.match(await live.innerText(), /live[\s\S]*passed/);
  const older = page.locator(`tr[data-release$="-${first.sha.slice(0, 7)}"]`);
  assert.equal(await older.getAttribute('data-state'), 'replaced');
  assert.equal(await older.locator('[data-health]').getAttribute('data-health'), 'good');
  assert.match(await page.locator('#push-to-live').innerText(), /^\d+(\.\d)? s \(job #\d+\)$/);
  // Readable on a phone: no sideways scrolling, the buttons open their confirmation.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#deploy-now summary').click();
  assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 390);
  assert.deepEqual(seen, []);
});

test('roll back from the repo page: confirm, the previous release becomes live, the job page shows it; then unmark the rolled-back commit', BOUND, async (t) => {
  const s = await dashboardServer(t);
  const first = await deployed(s, { 'index.html': 'v1' });
  const second = await deployed(s, { 'index.html': 'v2' });
  const firstRelease = s.store.getJob(first.job)?.release as string;
  const page = await newPage(browser);
  const seen = problems(page);
  await logIn(page, s.url, s.p.token, '/repos/site');

  const confirm = page.getByRole('button', { name: 'Yes, roll back site' });
  assert.equal(await confirm.isVisible(), false, 'the confirmation is closed at first');
  await page.locator('#roll-back summary').click();
  await confirm.waitFor();
  await Promise.all([page.waitForURL(/\/jobs\/\d+$/), confirm.click()]);
  await page.locator('#job-state [data-state="succeeded"]').waitFor(LONG);
  assert.match(await page.locator('.facts').innerText(), /Kind\s+rollback/);
  await page.locator('#job-release', { hasText: firstRelease }).waitFor();

  await page.goto(`${s.url}/repos/site`);
  assert.equal(await page.locator('tr[data-current="yes"]').getAttribute('data-release'), firstRelease);
  const bad = page.locator(`tr[data-bad="${second.sha}"]`);
  assert.match(await bad.innerText(), /rolled back/);
  await Promise.all([page.waitForURL(/\?unmarked=/), bad.getByRole('button', { name: `Unmark ${second.sha.slice(0, 7)}` }).click()]);
  assert.match(await page.locator('#repo-notice').innerText(), new RegExp(`${second.sha} is no longer marked bad`));
  assert.equal(await page.locator('tr[data-bad]').count(), 0);
  assert.equal(s.store.getBad('site', second.sha), null);
  assert.deepEqual(seen, []);
});

test('redeliver from the deliveries page: confirm, and the browser follows the new job; the new delivery says which it redelivered', BOUND, async (t) => {
  const s = await dashboardServer(t);
  await deployed(s, { 'index.html': 'v1' });
  const [original] = s.store.listDeliveries();
  const page = await newPage(browser);
  const seen = problems(page);
  await logIn(page, s.url, s.p.token, '/deliveries');
  const row = page.locator(`tr[data-delivery="${original?.id}"]`);
  await Promise.all([page.waitForURL(`${s.url}/deliveries/${original?.id}/redeliver`), row.getByRole('button', { name: `Redeliver delivery ${original?.id}` }).click()]);
  await page.getByRole('heading', { name: `Redeliver delivery #${original?.id}?` }).waitFor();
  await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.getByRole('button', { name: 'Yes, redeliver' }).click()]);
  const job = Number(/\/jobs\/(\d+)$/.exec(page.url())?.[1]);
  assert.ok(job > 1, 'a new job');
  await page.locator('#job-state .badge[data-state="succeeded"], #job-state .badge[data-state="skipped"]').waitFor(LONG);
  const [redelivery] = s.store.listDeliveries({ limit: 1 });
  assert.equal(redelivery?.redelivery_of, original?.id);
  await page.goto(`${s.url}/deliveries/${redelivery?.id}`);
  assert.match(await page.locator('.facts').innerText(), new RegExp(`Redelivery of\\s+#${original?.id}`));
  assert.deepEqual(seen, []);
});

test('a one-time login link opens the dashboard once; the second time it shows the login form', BOUND, async (t) => {
  const s = await dashboardServer(t);
  const res = await fetch(`${s.url}/api/login-link`, { method: 'POST', headers: { authorization: `Bearer ${s.p.token}` } });
  const { url } = (await res.json()) as { url: string };
  const page = await newPage(browser);
  await page.goto(url);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const other = await newPage(browser);
  await other.goto(url);
  await other.locator('#login-error', { hasText: 'used already or has expired' }).waitFor();
});
