/**
 * application/x-www-form-urlencoded, read as bytes: a field's value is percent-decoded to
 * the exact bytes the sender encoded, never through a string, so an invalid UTF-8 byte stays
 * itself (a signature over it must not verify a body with another byte in its place).
 */

const AMP = 0x26;
const EQ = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;
const OPEN_BRACE = 0x7b;

/**
 * The bytes of the first field called `name`, or null. Tolerates senders that put raw,
 * unencoded JSON after a leading `payload=` (the legacy Bitbucket POST service in some
 * copies): when the value starts with `{`, which every encoder writes as %7B, the rest of
 * the body is the value as is.
 */
export function formField(body: Buffer, name: string): Buffer | null {
  const prefix = Buffer.from(`${name}=`, 'latin1');
  if (body.subarray(0, prefix.length).equals(prefix) && firstNonSpace(body, prefix.length) === OPEN_BRACE) {
    return body.subarray(prefix.length);
  }
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(AMP, start);
    if (end === -1) end = body.length;
    const eq = body.indexOf(EQ, start);
    const nameEnd = eq === -1 || eq > end ? end : eq;
    // A field name longer than its name fully percent-encoded cannot be it.
    if (nameEnd - start <= name.length * 3 && percentDecode(body.subarray(start, nameEnd)).toString('utf8') === name) {
      return nameEnd === end ? Buffer.alloc(0) : percentDecode(body.subarray(nameEnd + 1, end));
    }
    start = end + 1;
  }
  return null;
}

function firstNonSpace(body: Buffer, from: number): number | undefined {
  let i = from;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  return body[i];
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** `+` is a space and `%XX` a byte; a `%` not followed by two hex digits stays as it is (as URLSearchParams does). */
function percentDecode(bytes: Buffer): Buffer {
  if (bytes.indexOf(PERCENT) === -1 && bytes.indexOf(PLUS) === -1) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === PLUS) out[n++] = 0x20;
    else if (c === PERCENT) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
      } else out[n++] = c;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}
