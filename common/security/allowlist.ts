// Which peer addresses may talk to the manager: IPs and CIDR ranges, IPv4 and IPv6, matched by
// Node's net.BlockList. An IPv4-mapped IPv6 address (::ffff:10.0.0.5) counts as its IPv4.

import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../net/address.ts';
import { HwError } from '../errors.ts';

export const LOOPBACK_ALLOW = ['127.0.0.0/8', '::1'];

export class Allowlist {
  private readonly list = new BlockList();
  readonly entries: string[];

  /** Throws HwError('BAD_ALLOW') naming the first entry that is neither an IP nor a CIDR range. */
  constructor(entries: string[]) {
    this.entries = [];
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      this.add(entry);
      this.entries.push(entry);
    }
  }

  static parse(spec: string | string[] | undefined): Allowlist {
    if (spec === undefined || spec === '' || (Array.isArray(spec) && spec.length === 0)) return new Allowlist(LOOPBACK_ALLOW);
    const parts = (Array.isArray(spec) ? spec : [spec]).flatMap((s) => String(s).split(','));
    return new Allowlist(parts);
  }

  private add(entry: string): void {
    const slash = entry.indexOf('/');
    const ip = normalizeAddress(slash < 0 ? entry : entry.slice(0, slash));
    const family = isIP(ip);
    if (family === 0) throw new HwError('BAD_ALLOW', `--allow: "${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      this.list.addAddress(ip, type);
      return;
    }
    const bitsText = entry.slice(slash + 1);
    const bits = Number(bitsText);
    const max = family === 4 ? 32 : 128;
    if (!/^\d+$/.test(bitsText) || bits > max) {
      throw new HwError('BAD_ALLOW', `--allow: "${entry}" has a bad prefix length (0 to ${max})`);
    }
    this.list.addSubnet(ip, bits, type);
  }

  allows(address: string | undefined): boolean {
    if (!address) return false;
    const ip = normalizeAddress(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}
