import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const MODULE = new URL('./young-gen.ts', import.meta.url).href;

interface Sizes {
  before: number;
  held: number;
  released: number;
}

/**
 * In a fresh node (the heap's sizes are per process): a burst of objects that survive, like a
 * start-up's, with the young generation held, then more after it is released: the new space's
 * size (MiB) before, after the first burst and after the others.
 */
function newSpaceSizes(nodeArgs: string[] = []): Sizes {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    const { holdYoungGeneration, releaseYoungGeneration } = await import(${JSON.stringify(MODULE)});
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    const keep = [];
    const burst = () => { for (let i = 0; i < 300000; i++) keep.push({ i, s: 'x' + i }); };
    const before = newSpace();
    holdYoungGeneration();
    burst();
    const held = newSpace();
    releaseYoungGeneration();
    burst(); burst();
    console.log(JSON.stringify({ before, held, released: newSpace() }));
  `;
  const out = execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as Sizes;
}

test('held, the young generation stays at its first size through a burst; released, it grows again under the next', () => {
  const { before, held, released } = newSpaceSizes();
  assert.equal(held, before, `new space ${held} MiB after the burst while held, ${before} MiB before`);
  assert.ok(released > held, `new space ${released} MiB after release (was ${held})`);
});

test('a young generation sized by whoever runs node is left alone', () => {
  const { before, held } = newSpaceSizes(['--max-semi-space-size=32']);
  assert.ok(held > before, `new space ${held} MiB after the burst, ${before} MiB before: the user's --max-semi-space-size let it grow`);
});
