import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reading a growing log file in bounded pieces: `tailStart` finds where the last `maxBytes`
 * begin (at a line start, so no half line is shown), `FileFollower` reads what was appended
 * since, at most `chunkBytes` per call, and hands out whole lines (UTF-8 kept whole across
 * reads; a line over `maxLine` characters in pieces). A file that got shorter (truncated, replaced) is read again from its start.
 */

/** Where to start reading for the last `maxBytes` of the file: 0 when it is shorter, else the first line start after size - maxBytes. */
export function tailStart(file: string, maxBytes: number): number {
  const size = statSync(file).size;
  if (size <= maxBytes) return 0;
  const from = size - maxBytes;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(maxBytes, 64 * 1024));
    const n = readSync(fd, buf, 0, buf.length, from - 1);
    // The byte before `from` is a newline: `from` starts a line already.
    const nl = buf.subarray(0, n).indexOf(0x0a);
    return nl < 0 ? from : from - 1 + nl + 1;
  } finally {
    closeSync(fd);
  }
}

export class FileFollower {
  private offset: number;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    readonly file: string,
    from: number,
    private readonly chunkBytes = 1024 * 1024,
    private readonly maxLine = 1024 * 1024,
  ) {
    this.offset = from;
  }

  /** The whole lines appended since the last call (at most chunkBytes read); [] when nothing new. */
  read(): string[] {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return [];
    }
    if (size < this.offset) {
      this.offset = 0;
      this.pending = '';
    }
    if (size === this.offset) return [];
    const buf = Buffer.alloc(Math.min(this.chunkBytes, size - this.offset));
    const fd = openSync(this.file, 'r');
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset += n;
    const text = this.pending + this.decoder.write(buf.subarray(0, n));
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    // A line longer than maxLine is handed out in pieces: memory stays bounded.
    if (this.pending.length > this.maxLine) {
      lines.push(this.pending);
      this.pending = '';
    }
    return lines;
  }

  /** Whether more than one chunk is waiting (read again at once rather than after a pause). */
  behind(): boolean {
    try {
      return statSync(this.file).size > this.offset;
    } catch {
      return false;
    }
  }

  /** The last line when it has no newline yet (at the end: print it anyway). */
  rest(): string | null {
    const r = this.pending + this.decoder.end();
    this.pending = '';
    return r === '' ? null : r;
  }
}
