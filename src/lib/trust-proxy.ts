import { ipAllowed } from './ip-allow.js';

/**
 * The trust_proxy setting: false (no proxy in front: nobody's X-Forwarded-* is believed),
 * true (the TCP peer is a proxy, whatever its address), or the CIDR blocks of the proxies.
 */
export type TrustProxySetting = boolean | readonly string[];

/**
 * Whether the TCP peer is a trusted proxy, so that the X-Forwarded-* headers it sends are
 * believed (and, when autopull forwards the request, kept and appended to). Only the nearest
 * hop is judged here: what a trusted proxy passes on from further left is its responsibility.
 */
export function peerTrusted(setting: TrustProxySetting, peer: string | undefined): boolean {
  if (peer === undefined || peer === '') return false;
  if (typeof setting === 'boolean') return setting;
  return setting.length > 0 && ipAllowed(peer, setting);
}
