import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFollower, tailStart } from './tail.js';
import { tempDir } from '../../test/helpers/tmp.js';

test('tailStart begins the last N bytes at a line start, or at 0 for a short file', (t) => {
  const file = join(tempDir(t), 'app.log');
  writeFileSync(file, 'one\ntwo\nthree\nfour\n');
  assert.equal(tailStart(file, 1000), 0);
  // The last 8 bytes are "ee\nfour\n": the half line "ee" is skipped.
  assert.equal(tailStart(file, 8), 'one\ntwo\nthree\n'.length);
  // The byte before the cut is a newline: the cut starts a whole line.
  assert.equal(tailStart(file, 'four\n'.length), 'one\ntwo\nthree\n'.length);
});

test('FileFollower hands out whole lines as they are appended, keeps UTF-8 whole across reads, bounds each read, and starts over on a truncated file', (t) => {
  const file = join(tempDir(t), 'app.log');
  writeFileSync(file, 'first\nsec');
  const f = new FileFollower(file, 0, 4);
  const all: string[] = [];
  while (f.behind()) all.push(...f.read());
  assert.deepEqual(all, ['first']);
  appendFileSync(file, 'ond\nhé');
  const more: string[] = [];
  while (f.behind()) more.push(...f.read());
  assert.deepEqual(more, ['second']);
  // "é" is two bytes; a read of 4 bytes may split it, the line is still whole.
  appendFileSync(file, 'llo wörld\n');
  const utf: string[] = [];
  while (f.behind()) utf.push(...f.read());
  assert.deepEqual(utf, ['héllo wörld']);
  appendFileSync(file, 'no newline yet');
  while (f.behind()) f.read();
  assert.equal(f.rest(), 'no newline yet');
  writeFileSync(file, 'new\n');
  assert.deepEqual(f.read(), ['new']);
});

test('FileFollower gives a line longer than maxLine in pieces instead of holding it all', (t) => {
  const file = join(tempDir(t), 'app.log');
  writeFileSync(file, `${'x'.repeat(20)}\n`);
  const f = new FileFollower(file, 0, 8, 8);
  const pieces: string[] = [];
  while (f.behind()) pieces.push(...f.read());
  assert.equal(pieces.join(''), 'x'.repeat(20));
  assert.ok(pieces.length > 1);
});
