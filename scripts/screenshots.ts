// Screenshots of the dashboard for docs/ (npm run screenshots): a demo project served by the
// real app, a failed and two successful deploys and a rollback from the repo page, then the
// overview, the job page and the repo page at desktop
// (1280 px) and phone (390 px) width, light scheme. Uses Debian's chromium like the browser tests.
import { fileURLToPath } from 'node:url';
import { dashboardServer, launchBrowser, logIn, newPage } from '../test/helpers/dashboard.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };

async function main(): Promise<void> {
  const s = await dashboardServer(t, { build: ['sh test.sh', 'echo "compiled 12 pages"'] });
  const browser = await launchBrowser(t);
  const tests = 'if grep -q broken index.html; then echo "3 of 12 tests failed" >&2; exit 1; fi; echo "12 tests passed"\n';
  s.p.pushCommit({ 'index.html': 'v1 broken', 'test.sh': tests }, 'first try');
  const desktop = await newPage(browser, 1280, 800);
  await logIn(desktop, s.url, s.p.token, '/repos/site/simulate');
  await Promise.all([desktop.waitForURL(/\/jobs\/\d+$/), desktop.getByRole('button', { name: 'Send the simulated push' }).click()]);
  await desktop.locator('#job-state [data-state="failed"]').waitFor({ timeout: 30_000 });

  s.p.pushCommit({ 'index.html': 'v2' }, 'fix the build');
  await desktop.goto(`${s.url}/repos/site/simulate`);
  await desktop.getByLabel('Sender').selectOption('gitlab');
  await Promise.all([desktop.waitForURL(/\/jobs\/\d+$/), desktop.getByRole('button', { name: 'Send the simulated push' }).click()]);
  const job = new URL(desktop.url()).pathname;
  await desktop.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
  await desktop.screenshot({ path: `${docs}dashboard-job.png`, fullPage: true });

  // A third release, rolled back from the repo page: the page then shows a replaced and a
  // failed-over release, and the commit rolled back from marked bad.
  s.p.pushCommit({ 'index.html': 'v3' }, 'new header');
  await desktop.goto(`${s.url}/repos/site/simulate`);
  await Promise.all([desktop.waitForURL(/\/jobs\/\d+$/), desktop.getByRole('button', { name: 'Send the simulated push' }).click()]);
  await desktop.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
  await desktop.goto(`${s.url}/repos/site`);
  await desktop.locator('#roll-back summary').click();
  await Promise.all([desktop.waitForURL(/\/jobs\/\d+$/), desktop.getByRole('button', { name: 'Yes, roll back site' }).click()]);
  await desktop.locator('#job-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
  await desktop.goto(`${s.url}/repos/site`);
  await desktop.screenshot({ path: `${docs}dashboard-repo.png`, fullPage: true });
  await desktop.goto(`${s.url}/`);
  await desktop.screenshot({ path: `${docs}dashboard-overview.png`, fullPage: true });

  const phone = await newPage(browser, 390, 844);
  await logIn(phone, s.url, s.p.token, '/');
  await phone.screenshot({ path: `${docs}dashboard-overview-phone.png`, fullPage: true });
  await phone.goto(`${s.url}${job}`);
  await phone.locator('#live-status', { hasText: 'ended' }).waitFor();
  await phone.screenshot({ path: `${docs}dashboard-job-phone.png`, fullPage: true });
  await phone.goto(`${s.url}/repos/site`);
  await phone.screenshot({ path: `${docs}dashboard-repo-phone.png`, fullPage: true });
  console.log(`wrote docs/dashboard-{overview,job,repo}{,-phone}.png`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
