import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { rig, type Rig } from '../../test/helpers/rig.js';
import { git } from '../../test/helpers/git.js';
import { tempDir } from '../../test/helpers/tmp.js';

/**
 * A commit's own files (symlinks included) never make autopull write outside the release:
 * each test keeps a sentinel folder outside deploy.path and checks that it survives
 * byte for byte, whatever the commit links to it.
 */

interface Outside {
  dir: string;
  /** Every path under dir with its content ('<dir>' for folders, '-> x' for links). */
  snapshot(): Record<string, string>;
}

function outside(t: { after(fn: () => unknown): void }): Outside {
  const dir = tempDir(t, 'autopull-outside-');
  writeFileSync(join(dir, 'app.env'), 'SENTINEL\n');
  mkdirSync(join(dir, 'cache'));
  writeFileSync(join(dir, 'cache', 'data'), 'keep me\n');
  const snapshot = () => {
    const out: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const name of readdirSync(join(dir, rel)).sort()) {
        const p = rel ? `${rel}/${name}` : name;
        const st = lstatSync(join(dir, p));
        if (st.isSymbolicLink()) out[p] = `-> ${readlinkSync(join(dir, p))}`;
        else if (st.isDirectory()) {
          out[p] = '<dir>';
          walk(p);
        } else out[p] = readFileSync(join(dir, p), 'utf8');
      }
    };
    walk('');
    return out;
  };
  return { dir, snapshot };
}

/** Commits symlinks (path -> target) and files in the rig's work repo and pushes main. */
function pushLinks(r: Rig, links: Record<string, string>, files: Record<string, string> = {}, remove: string[] = []): void {
  for (const p of remove) rmSync(join(r.p.work, p), { recursive: true, force: true });
  for (const [p, target] of Object.entries(links)) {
    mkdirSync(join(r.p.work, p, '..'), { recursive: true });
    symlinkSync(target, join(r.p.work, p));
  }
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(r.p.work, p, '..'), { recursive: true });
    writeFileSync(join(r.p.work, p), text);
  }
  git(r.p.work, 'add', '-A');
  git(r.p.work, 'commit', '--quiet', '-m', 'links');
  git(r.p.work, 'push', '--quiet', 'origin', 'main');
}

function writeShared(r: Rig, rel: string, text: string): void {
  const file = join(r.p.deployPath, 'shared', rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

for (const c of [
  { entry: 'conf/app.env', link: 'conf', linkTo: (o: string) => o, file: true },
  { entry: 'deep/conf/cache/', link: 'deep/conf', linkTo: (o: string) => o, file: false },
  // Relative, from srv/releases/<id>/conf: up to the temp folder, then into the outside one.
  { entry: 'conf/app.env', link: 'conf', linkTo: (o: string) => `../../../../${basename(o)}`, file: true },
]) {
  const kind = c.linkTo('/x').startsWith('/') ? 'an absolute' : 'a relative';
  test(`a shared entry (${c.entry}) under a folder the commit made ${kind} symlink fails the deploy, names the entry and the link, and touches nothing outside`, async (t) => {
    const o = outside(t);
    const r = rig(t, { shared: [c.entry] });
    if (c.file) writeShared(r, c.entry, 'FROM SHARED\n');
    r.p.pushCommit({ [`${c.link}/other.txt`]: 'a real folder', 'index.html': 'v1' });
    const good = await r.deploy();
    assert.equal(good.state, 'succeeded', r.log(good));
    const before = { current: r.current(), releases: r.releases(), outside: o.snapshot() };

    pushLinks(r, { [c.link]: c.linkTo(o.dir) }, { 'index.html': 'v2' }, [c.link]);
    const job = await r.deploy();
    assert.equal(job.state, 'failed', r.log(job));
    assert.ok(job.reason?.includes(`shared entry "${c.entry}"`), job.reason ?? '');
    assert.ok(job.reason?.includes(`${c.link} is a symbolic link in the commit`), job.reason ?? '');
    assert.deepEqual(o.snapshot(), before.outside, 'nothing outside the release was created, removed or changed');
    assert.equal(r.current(), before.current, 'the old release keeps serving');
    assert.deepEqual(r.releases(), before.releases, 'the new release is discarded');
    assert.equal(readFileSync(join(r.p.deployPath, 'current', 'index.html'), 'utf8'), 'v1');
  });
}

test('a shared entry under a path that is a file in the commit fails the deploy with a clear message', async (t) => {
  const r = rig(t, { shared: ['conf/app.env'] });
  writeShared(r, 'conf/app.env', 'FROM SHARED\n');
  r.p.pushCommit({ conf: 'a file, not a folder' });
  const job = await r.deploy();
  assert.equal(job.state, 'failed');
  assert.equal(job.reason, 'shared entry "conf/app.env": conf is a file, not a folder');
  assert.deepEqual(r.releases(), []);
});

test('a shared entry that is itself a symlink to outside is replaced: the link goes, its target stays', async (t) => {
  const o = outside(t);
  const r = rig(t, { shared: ['app.env', 'cache/'] });
  writeShared(r, 'app.env', 'FROM SHARED\n');
  pushLinks(r, { 'app.env': join(o.dir, 'app.env'), cache: join(o.dir, 'cache') });
  const before = o.snapshot();
  const job = await r.deploy();
  assert.equal(job.state, 'succeeded', r.log(job));
  const cur = join(r.p.deployPath, 'current');
  assert.equal(readFileSync(join(cur, 'app.env'), 'utf8'), 'FROM SHARED\n');
  assert.equal(readlinkSync(join(cur, 'cache')), '../../shared/cache');
  assert.deepEqual(o.snapshot(), before);
});

test('git: a crafted tree with a symlink and a file under the same name writes nothing through the link', async (t) => {
  const o = outside(t);
  const r = rig(t, { shared: ['conf/app.env'] });
  writeShared(r, 'conf/app.env', 'FROM SHARED\n');
  r.p.pushCommit({ 'index.html': 'v1' });
  const w = r.p.work;
  const hash = (text: string) => execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: w, input: text, encoding: 'utf8' }).trim();
  const mktree = (lines: string) => execFileSync('git', ['mktree'], { cwd: w, input: lines, encoding: 'utf8' }).trim();
  const sub = mktree(`100644 blob ${hash('PWNED\n')}\tapp.env\n100644 blob ${hash('PWNED\n')}\tnew.txt\n`);
  // Both orders: git sorts the link first; a hand-made tree may put the folder first.
  for (const tree of [
    mktree(`120000 blob ${hash(o.dir)}\tconf\n040000 tree ${sub}\tconf\n100644 blob ${hash('v2')}\tindex.html\n`),
    mktree(`040000 tree ${sub}\tconf\n120000 blob ${hash(o.dir)}\tconf\n100644 blob ${hash('v3')}\tindex.html\n`),
  ]) {
    const sha = git(w, 'commit-tree', '-p', 'HEAD', '-m', 'crafted', tree);
    git(w, 'push', '--quiet', '--force', 'origin', `${sha}:refs/heads/main`);
    const job = await r.deploy();
    // git replaces the link with a folder (checkout-index --force never writes through a link).
    assert.equal(job.state, 'succeeded', r.log(job));
    assert.ok(lstatSync(join(r.p.deployPath, 'current', 'conf')).isDirectory());
    assert.equal(readFileSync(join(r.p.deployPath, 'current', 'conf', 'app.env'), 'utf8'), 'FROM SHARED\n');
    assert.deepEqual(Object.keys(o.snapshot()).sort(), ['app.env', 'cache', 'cache/data']);
    assert.equal(readFileSync(join(o.dir, 'app.env'), 'utf8'), 'SENTINEL\n');
  }
});

const HG_PYTHON = (() => {
  try {
    const hgBin = execFileSync('sh', ['-c', 'command -v hg'], { encoding: 'utf8' }).trim();
    const python = /^#!\s*(\S+)/.exec(readFileSync(hgBin, 'utf8').split('\n')[0] ?? '')?.[1] ?? 'python3';
    execFileSync(python, ['-c', 'import mercurial'], { stdio: 'ignore' });
    return python;
  } catch {
    return null;
  }
})();

test('hg: a changeset with a symlink and a file under it fails to materialise and writes nothing outside', { skip: HG_PYTHON === null && 'no python with the mercurial module' }, async (t) => {
  const o = outside(t);
  const dir = tempDir(t);
  const src = join(dir, 'source');
  execFileSync('hg', ['init', src]);
  // hg's working copy cannot hold both, so the changeset is made through Mercurial's API.
  const script = `
import sys
from mercurial import ui as uimod, hg, context
repo = hg.repository(uimod.ui.load(), sys.argv[1].encode())
def fctx(repo, mctx, path):
    if path == b'conf':
        return context.memfilectx(repo, mctx, path, sys.argv[2].encode(), islink=True)
    return context.memfilectx(repo, mctx, path, b'PWNED\\n')
with repo.wlock(), repo.lock():
    context.memctx(repo, (None, None), b'crafted', [b'conf', b'conf/app.env', b'index.html'], fctx, user=b't').commit()
`;
  execFileSync(HG_PYTHON as string, ['-c', script, src, o.dir]);
  const r = rig(t, { repoYaml: `    vcs: hg\n`, branches: ['default'] });
  const job = await r.deployWith((yaml) => yaml.replace('url: ./remote.git', `url: ${src}`));
  assert.equal(job?.state, 'failed');
  assert.match(job?.reason ?? '', /traverses symbolic link 'conf'/);
  assert.deepEqual(Object.keys(o.snapshot()).sort(), ['app.env', 'cache', 'cache/data']);
  assert.equal(readFileSync(join(o.dir, 'app.env'), 'utf8'), 'SENTINEL\n');
  assert.deepEqual(r.releases(), [], 'the half-made release is removed');
});

test('removing a release (a failed build, prune) removes the links in it, never what they point to', async (t) => {
  const o = outside(t);
  const r = rig(t, { build: ['test ! -f fail'], keep: 1 });
  const before = o.snapshot();
  pushLinks(r, { conf: o.dir, 'app.env': join(o.dir, 'app.env'), 'deep/cache': join(o.dir, 'cache') });
  assert.equal((await r.deploy()).state, 'succeeded');
  r.p.pushCommit({ fail: '' });
  assert.equal((await r.deploy()).state, 'failed', 'the discarded release held the links');
  git(r.p.work, 'rm', '-q', 'fail');
  git(r.p.work, 'commit', '-qm', 'ok');
  git(r.p.work, 'push', '-q', 'origin', 'main');
  assert.equal((await r.deploy()).state, 'succeeded');
  r.p.pushCommit({ v: '3' });
  assert.equal((await r.deploy()).state, 'succeeded', 'prune removed the first release with its links');
  assert.equal(r.releases().length, 2);
  assert.deepEqual(o.snapshot(), before);
  assert.ok(existsSync(join(o.dir, 'cache', 'data')));
});
