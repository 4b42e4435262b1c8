import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closeFrame, FrameCursor } from './ws-frames.js';

/** A frame as a peer would send it: FIN + opcode, the length in its 7-, 16- or 64-bit form, an optional mask key, the payload. */
function frame(len: number, masked: boolean, form: 7 | 16 | 64): Buffer {
  const head = [0x82];
  const m = masked ? 0x80 : 0;
  if (form === 7) head.push(m | len);
  else if (form === 16) head.push(m | 126, len >> 8, len & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  return Buffer.concat([Buffer.from(head), masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(len, 0x61)]);
}

const frameArb = fc.record({ len: fc.integer({ min: 0, max: 300 }), masked: fc.boolean(), form: fc.constantFrom(7, 16, 64) }).map(({ len, masked, form }) => {
  const f = (form === 7 && len > 125 ? 16 : form) as 7 | 16 | 64;
  return frame(len, masked, f);
});

test('a cursor fed frames split anywhere is at a boundary exactly at their ends, and stops there when asked', () => {
  fc.assert(
    fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }), (frames, cuts) => {
      const stream = Buffer.concat(frames);
      const ends = new Set<number>();
      let at = 0;
      for (const f of frames) ends.add((at += f.length));
      const cursor = new FrameCursor();
      let pos = 0;
      let c = 0;
      while (pos < stream.length) {
        const end = Math.min(pos + (cuts[c++ % cuts.length] as number), stream.length);
        // Within one chunk: stop at each frame end in it, then go on with the rest of the chunk.
        while (pos < end) {
          const n = cursor.advance(stream.subarray(pos, end), true);
          const nextEnd = Math.min(...[...ends].filter((e) => e > pos));
          assert.equal(pos + n, Math.min(nextEnd, end), 'consumed up to the first frame end in the chunk, or all of it');
          pos += n;
          assert.equal(cursor.atBoundary, ends.has(pos), `at a boundary at ${pos} exactly when a frame ends there`);
        }
      }
      assert.equal(cursor.atBoundary, true);
    }),
  );
});

test('close frames: code and reason, unmasked towards a client, masked towards a server', () => {
  const plain = closeFrame(1001, 'going away', false);
  assert.deepEqual([...plain.subarray(0, 4)], [0x88, 12, 0x03, 0xe9]);
  assert.equal(plain.subarray(4).toString(), 'going away');
  const masked = closeFrame(1001, 'going away', true);
  assert.equal(masked.length, 2 + 4 + 12);
  const cursor = new FrameCursor();
  assert.equal(cursor.advance(masked), masked.length);
  assert.equal(cursor.atBoundary, true);
});
