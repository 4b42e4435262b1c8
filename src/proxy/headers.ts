import { plainAddress } from '../lib/ip-allow.js';

/**
 * Which headers cross the proxy. Pure functions over raw header lists (`[name, value, name,
 * value, ...]`, as Node's `rawHeaders` and undici take them), so repeated headers such as
 * Set-Cookie keep their order and count.
 */
export type RawHeaders = string[];

/**
 * Hop-by-hop headers (RFC 9110 7.6.1, plus the old Keep-Alive and Proxy-Connection): they
 * describe one connection, never the next. Upgrade is put back by the upgrade path itself.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade']);

/**
 * Request headers the proxy consumes: Node's server has already answered `Expect:
 * 100-continue` to the client, and the upstream request streams its body without waiting.
 */
const CONSUMED_ON_REQUEST = new Set(['expect']);

/**
 * Client-written headers that claim where a request came from: believed only from a trusted
 * proxy. X-Real-IP is nginx's name for the client address: many apps read it first.
 */
const FORWARDING = /^(x-forwarded-.*|forwarded|x-real-ip)$/;

/**
 * Headers a Connection line cannot make hop-by-hop: they are meant for every recipient (RFC
 * 9110 7.6.1), and a client naming Host would hide the name it asked for from the app.
 */
const END_TO_END_ALWAYS = new Set(['host', 'content-length', 'content-type', 'authorization', 'cookie']);

/** The header names listed in every Connection header, lower-cased: those are hop-by-hop too. */
export function connectionTokens(raw: RawHeaders): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const t of (raw[i + 1] as string).split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '') tokens.add(name);
    }
  }
  return tokens;
}

/** The headers of `raw` that the next hop may see: without hop-by-hop ones and the ones Connection names. */
function endToEnd(raw: RawHeaders, alsoDrop: (name: string) => boolean): RawHeaders {
  const named = connectionTokens(raw);
  const out: RawHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named.has(lower) && !END_TO_END_ALWAYS.has(lower)) || alsoDrop(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

export interface ForwardContext {
  /** The TCP peer's address as the socket gave it when the request arrived. */
  peer: string;
  /** Whether that peer is a trusted proxy (trust_proxy), whose X-Forwarded-* are kept and appended to. */
  trusted: boolean;
  /** The scheme the client used to reach the proxy. */
  proto: 'http' | 'https';
}

function first(raw: RawHeaders, lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

/** Every value of a header, joined as one list (X-Forwarded-For may arrive split over several lines). */
function joined(raw: RawHeaders, lower: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === lower) values.push((raw[i + 1] as string).trim());
  const list = values.filter((v) => v !== '');
  return list.length > 0 ? list.join(', ') : undefined;
}

/**
 * The headers sent upstream for a request with headers `raw`: hop-by-hop ones removed, Host
 * kept (the app sees the name the client used), and X-Forwarded-For/-Proto/-Host set. From an
 * untrusted peer every client-written X-Forwarded-* (and Forwarded) is dropped and replaced by
 * what the proxy saw; a trusted proxy's X-Forwarded-For gets the peer appended, and its
 * X-Forwarded-Proto and -Host are kept (set from this hop when it sent none).
 */
export function requestHeaders(raw: RawHeaders, ctx: ForwardContext): RawHeaders {
  const peer = plainAddress(ctx.peer);
  const host = first(raw, 'host');
  let forwardedFor = peer;
  let proto: string = ctx.proto;
  let forwardedHost = host;
  if (ctx.trusted) {
    const before = joined(raw, 'x-forwarded-for');
    if (before !== undefined) forwardedFor = `${before}, ${peer}`;
    proto = first(raw, 'x-forwarded-proto')?.trim() || proto;
    forwardedHost = first(raw, 'x-forwarded-host')?.trim() || forwardedHost;
  }
  const replaced = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
  const out = endToEnd(raw, (name) => CONSUMED_ON_REQUEST.has(name) || replaced.has(name) || (!ctx.trusted && FORWARDING.test(name)));
  out.push('x-forwarded-for', forwardedFor, 'x-forwarded-proto', proto);
  if (forwardedHost !== undefined) out.push('x-forwarded-host', forwardedHost);
  return out;
}

/** The headers of an upstream response that go on to the client: hop-by-hop ones removed. */
export function responseHeaders(raw: RawHeaders): RawHeaders {
  return endToEnd(raw, () => false);
}

/** Whether a header list carries Content-Length (the body then has a known end). */
export function hasContentLength(raw: RawHeaders): boolean {
  return first(raw, 'content-length') !== undefined;
}

/** undici's raw header list (Buffers, or strings) as strings, bytes kept as they came (latin1, as Node writes them). */
export function rawHeaderStrings(raw: readonly (Buffer | string)[] | null | undefined): RawHeaders {
  return (raw ?? []).map((v) => (typeof v === 'string' ? v : v.toString('latin1')));
}
