import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docs/SECURITY.md claims, for each attack, the test that shows it is stopped. A claim whose
 * test was renamed or removed would go on reassuring readers: every cited test file must exist,
 * and every test named in quotes beside it must be in that file.
 */
const root = new URL('../..', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/SECURITY.md'), 'utf8');

/**
 * Each cited `path.test.ts`, with the test titles quoted in parentheses right after it:
 * `file` ("title", "start of a title...").
 */
function citations(text: string): { file: string; titles: string[] }[] {
  const out: { file: string; titles: string[] }[] = [];
  const re = /`((?:src|test)\/[\w./-]+\.test\.ts)`(?:\s*\(([^)]*)\))?/g;
  for (const m of text.matchAll(re)) {
    const titles = [...(m[2] ?? '').matchAll(/"([^"]+?)(?:\.\.\.)?"/g)].map((t) => t[1] as string);
    out.push({ file: m[1] as string, titles });
  }
  return out;
}

test('docs/SECURITY.md: every test it cites exists, and every quoted test title is in its file', () => {
  const cited = citations(doc);
  assert.ok(cited.length >= 20, `only ${cited.length} citations found: is the pattern still right?`);
  const missing = cited.filter((c) => !existsSync(join(root, c.file))).map((c) => c.file);
  assert.deepEqual(missing, [], 'cited test files that do not exist');
  const untitled = cited.flatMap((c) => {
    const text = readFileSync(join(root, c.file), 'utf8');
    return c.titles.filter((title) => !text.includes(title)).map((title) => `${c.file}: "${title}"`);
  });
  assert.deepEqual(untitled, [], 'quoted test titles not found in their files');
  assert.ok(cited.flatMap((c) => c.titles).length >= 4, 'the quoted titles are no longer found: is the pattern still right?');
});

test('docs/SECURITY.md: names each kind of attacker the threat model must cover', () => {
  const headings = [...doc.matchAll(/^## \d+\. (.*)$/gm)].map((m) => m[1] as string);
  for (const who of [/^Someone who knows the URL/, /^Someone who replays a genuine delivery/, /^Someone who sends a spoofed payload/, /^Someone who can push a commit/]) {
    assert.ok(headings.some((h) => who.test(h)), `no section ${who}; the sections are: ${headings.join(' | ')}`);
  }
});
