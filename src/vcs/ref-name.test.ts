import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refNameProblem } from './ref-name.js';

test("git's ref-name rules", () => {
  for (const ok of ['refs/heads/main', 'refs/heads/feature/x-1', 'refs/tags/v1.2.3', 'refs/heads/ünïcode']) assert.equal(refNameProblem(ok), null, ok);
  const bad: Record<string, RegExp> = {
    'refs/heads/a..b': /\.\./,
    'refs/heads/a b': /space/,
    'refs/heads/x.lock': /\.lock/,
    'refs/heads/.hidden': /starts with \./,
    'refs/heads/a//b': /empty/,
    'refs/heads/a/': /empty/,
    'refs/heads/a@{1}': /@\{/,
    'refs/heads/a~1': /~/,
    'refs/heads/$(rm -rf /)': /space/,
    'main': /refs\//,
    '': /empty/,
  };
  for (const [ref, re] of Object.entries(bad)) assert.match(refNameProblem(ref) ?? '', re, ref);
});
