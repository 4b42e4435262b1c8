import { existsSync } from 'node:fs';
import type * as Pages from './pages/all.js';

/**
 * The page templates (pages/, layout, format, ...) are loaded by the first request that shows
 * a page, not at start: a server that only takes webhooks never pays for them. Their module is
 * looked for when this one loads (built: all.js; tests run the sources: all.ts), so an install
 * without them refuses to start instead of failing the first visit.
 */
const FOUND = ['all.js', 'all.ts'].some((f) => existsSync(new URL(`./pages/${f}`, import.meta.url)));
if (!FOUND) throw new Error(`the dashboard's pages are missing beside ${new URL('.', import.meta.url).pathname} (a broken install: reinstall autopull)`);

let loading: Promise<typeof Pages> | null = null;

export function pages(): Promise<typeof Pages> {
  loading ??= import('./pages/all.js');
  return loading;
}
