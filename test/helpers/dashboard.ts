import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { loadConfig } from '../../src/config/load.js';
import { Store } from '../../src/store/store.js';
import { Worker } from '../../src/runner/worker.js';
import { silentLogger } from '../../src/lib/log.js';
import { makeProject, type Project, type ProjectOptions } from './project.js';

/**
 * Debian's chromium (apt-get install chromium; Ubuntu's chromium-browser where that is what
 * scripts/setup-system.sh could install); playwright never downloads a browser here.
 */
export const CHROMIUM = process.env.AUTOPULL_CHROMIUM ?? (['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? '/usr/bin/chromium');

export interface DashboardServer {
  url: string;
  p: Project;
  app: FastifyInstance;
  store: Store;
  worker: Worker;
}

/**
 * A project (bare remote, work clone, config with repo `site`) served by the real app on
 * 127.0.0.1:0 with a real store and worker in this process, so a test can also cut the
 * server's connections. Everything stops when the test ends.
 */
export async function dashboardServer(t: { after(fn: () => unknown): void }, o: ProjectOptions = {}): Promise<DashboardServer> {
  const p = makeProject(t, o);
  const config = loadConfig(p.configFile);
  const store = new Store(join(config.data_dir, 'autopull.db'));
  const worker = new Worker(config, store, silentLogger());
  const app = await buildApp({ config, store, logger: silentLogger(), kick: (r) => worker.kick(r), apiTokens: [] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    app.server.closeAllConnections();
    await app.close();
    await worker.stop();
    store.close();
  });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, p, app, store, worker };
}

/** Headless chromium, closed when the test (or suite) ends. */
export async function launchBrowser(t: { after(fn: () => unknown): void }): Promise<Browser> {
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  t.after(() => browser.close());
  return browser;
}

/** A fresh browser context (its own cookies) and page at `width`, closed with the browser. */
export async function newPage(browser: Browser, width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  return context.newPage();
}

/** Logs in through the form; resolves on the page the login leads to. */
export async function logIn(page: Page, url: string, token: string, path = '/'): Promise<void> {
  await page.goto(`${url}${path}`);
  await page.getByLabel('Token').fill(token);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: 'Log in' }).click()]);
}

/**
 * One chromium for all the tests of a file: launched before the first, closed after the last.
 * Returns a getter (the browser exists only once `before` has run).
 */
export function browserForFile(): () => Browser {
  let browser: Browser | null = null;
  const cleanups: (() => unknown)[] = [];
  before(async () => {
    browser = await launchBrowser({ after: (fn) => cleanups.push(fn) });
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return () => {
    if (!browser) throw new Error('the browser is launched in before(): use it inside a test');
    return browser;
  };
}

/** Content Security Policy complaints and script errors in the page: there must be none. */
export function pageProblems(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text());
  });
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}
