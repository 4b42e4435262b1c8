import { BlockList, isIP } from 'node:net';

const lists = new WeakMap<readonly string[], BlockList>();

function blockList(cidrs: readonly string[]): BlockList {
  let list = lists.get(cidrs);
  if (!list) {
    list = new BlockList();
    for (const c of cidrs) {
      const [addr, bits] = c.split('/') as [string, string | undefined];
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    lists.set(cidrs, list);
  }
  return list;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, as a dual-stack listener sees IPv4 peers) as plain IPv4; any other unchanged. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}

/** Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of the CIDR blocks. */
export function ipAllowed(address: string, cidrs: readonly string[]): boolean {
  const addr = plainAddress(address);
  const family = isIP(addr);
  if (family === 0) return false;
  return blockList(cidrs).check(addr, family === 6 ? 'ipv6' : 'ipv4');
}
