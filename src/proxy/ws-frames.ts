import { randomBytes } from 'node:crypto';

/**
 * Just enough of WebSocket framing (RFC 6455 5.2) to end a proxied WebSocket cleanly: the
 * bytes are forwarded untouched, and a FrameCursor per direction follows where each frame
 * ends, so that a close frame can be put in between two frames, never inside one. Control
 * frames may come between the fragments of a message, so any frame boundary will do.
 */
export class FrameCursor {
  /** Bytes of the frame header read so far (2 to 14 of them), empty between frames. */
  private header: number[] = [];
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;

  /** True between two frames: nothing of a frame has been seen that has not been seen whole. */
  get atBoundary(): boolean {
    return this.header.length === 0 && this.remaining === 0;
  }

  /**
   * Follows `chunk` and returns how many of its bytes were consumed: all of them, or with
   * `stopAtBoundary` only those up to the first frame end that comes within it.
   */
  advance(chunk: Uint8Array, stopAtBoundary = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
      } else {
        this.header.push(chunk[i] as number);
        i++;
        const need = headerLength(this.header);
        if (need === undefined || this.header.length < need) continue;
        this.remaining = payloadLength(this.header);
        this.header = [];
      }
      if (stopAtBoundary && this.atBoundary) return i;
    }
    return i;
  }
}

/** The length of a frame header from its first two bytes, or undefined before they are there. */
function headerLength(h: number[]): number | undefined {
  if (h.length < 2) return undefined;
  const b1 = h[1] as number;
  const len7 = b1 & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const mask = b1 & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

/** The payload length a complete header announces (a 64-bit length beyond 2^53 cannot occur in practice). */
function payloadLength(h: number[]): number {
  const len7 = (h[1] as number) & 0x7f;
  if (len7 < 126) return len7;
  const bytes = len7 === 126 ? h.slice(2, 4) : h.slice(2, 10);
  return bytes.reduce((n, b) => n * 256 + b, 0);
}

/** WebSocket close code 1001: the endpoint is going away (RFC 6455 7.4.1). */
export const GOING_AWAY = 1001;

/**
 * A close frame with `code` and a short `reason`. Frames towards a server must be masked
 * (`masked`); frames towards a client must not be.
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8').subarray(0, 123)]);
  const head = Buffer.from([0x88, (masked ? 0x80 : 0) | payload.length]);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number)));
  return Buffer.concat([head, key, body]);
}
