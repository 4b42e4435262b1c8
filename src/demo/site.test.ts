import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSite } from './site.js';
import { tempDir } from '../../test/helpers/tmp.js';

test("the demo site serves the release's own files and never follows a link the commit made", async (t) => {
  const dir = tempDir(t);
  const secret = join(dir, 'outside.txt');
  writeFileSync(secret, 'OUTSIDE THE RELEASE\n');
  const release = (id: string) => join(dir, 'srv', 'releases', id);
  // Release a: public/ is a real folder, index.html links outside, version.json is a real file.
  mkdirSync(join(release('a'), 'public'), { recursive: true });
  symlinkSync(secret, join(release('a'), 'public', 'index.html'));
  writeFileSync(join(release('a'), 'public', 'version.json'), '{"version":"1"}');
  // Release b: public/ itself links to a folder outside.
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(join(dir, 'elsewhere', 'version.json'), 'OUTSIDE THE RELEASE\n');
  mkdirSync(release('b'), { recursive: true });
  symlinkSync(join(dir, 'elsewhere'), join(release('b'), 'public'));
  const site = await startSite(join(dir, 'srv'));
  t.after(() => new Promise<void>((r) => site.server.close(() => r())));
  const get = async (path: string) => {
    const res = await fetch(`${site.url}${path}`);
    return { status: res.status, text: await res.text() };
  };

  symlinkSync('releases/a', join(dir, 'srv', 'current'));
  assert.deepEqual(await get('version.json'), { status: 200, text: '{"version":"1"}' }, '`current` itself is followed');
  const linked = await get('index.html');
  assert.notEqual(linked.status, 200);
  assert.ok(!linked.text.includes('OUTSIDE'), linked.text);

  symlinkSync('releases/b', join(dir, 'srv', 'next'));
  renameSync(join(dir, 'srv', 'next'), join(dir, 'srv', 'current'));
  const throughFolder = await get('version.json');
  assert.notEqual(throughFolder.status, 200);
  assert.ok(!throughFolder.text.includes('OUTSIDE'), throughFolder.text);
});
