import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { z } from './zod.js';

// node --test runs each test file in a process of its own: this one loads zod only here.
const require = createRequire(import.meta.url);
const localesLoaded = () => Object.keys(require.cache).filter((f) => /[\\/]zod[\\/]v4[\\/]locales[\\/](?!index|en)/.test(f));

test("zod comes without its translations, keeps its English messages, and still has every locale when one is asked for", () => {
  assert.deepEqual(localesLoaded(), [], 'no locale but English loaded with zod');
  const r = z.strictObject({ port: z.number().int() }).safeParse({ port: 'x', extra: 1 });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues.map((i) => i.message), ['Invalid input: expected number, received string', 'Unrecognized key: "extra"']);
  assert.deepEqual(localesLoaded(), []);

  assert.equal(typeof z.locales.de, 'function');
  assert.ok('fr' in z.locales);
  assert.ok(localesLoaded().length > 50, `the locales load when asked for (${localesLoaded().length})`);
  const de = z.string().safeParse(1, { error: z.locales.de().localeError });
  assert.match(de.error?.issues[0]?.message ?? '', /Ungültige Eingabe/);
});
