// Parses "host", "host:port", "[v6]:port" and lists of them, with errors that name the flag.

import { isIP } from 'node:net';
import { HwError } from '../errors.ts';

export interface HostPort {
  host: string;
  port: number;
}

export function parsePort(v: unknown, flag: string, allowZero = true): number {
  const n = typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v.trim())) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) throw new HwError('BAD_FLAG', `${flag}: "${String(v)}" is not a port number (${allowZero ? 0 : 1} to 65535)`);
  return n;
}

export function parseHostPort(spec: string, defaultPort: number, flag: string): HostPort {
  const s = spec.trim();
  if (!s) throw new HwError('BAD_FLAG', `${flag}: empty address`);
  let host: string;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2];
  } else if (isIP(s) === 6) {
    host = s; // a bare IPv6 address has no port
  } else {
    const i = s.lastIndexOf(':');
    if (i >= 0) {
      host = s.slice(0, i);
      port = s.slice(i + 1);
    } else {
      host = s;
    }
  }
  if (!host || /\s/.test(host) || host === '[]' || (host.includes(':') && isIP(host) !== 6)) throw new HwError('BAD_FLAG', `${flag}: "${spec}" is not a host name or address`);
  if (port === '') throw new HwError('BAD_FLAG', `${flag}: "${spec}" has an empty port after the colon`);
  return { host, port: port === undefined ? defaultPort : parsePort(port, flag) };
}

export function parseHostList(spec: string, defaultPort: number, flag: string): HostPort[] {
  const list = spec.split(',').map((x) => x.trim()).filter(Boolean).map((x) => parseHostPort(x, defaultPort, flag));
  if (!list.length) throw new HwError('BAD_FLAG', `${flag} needs at least one address`);
  return list;
}

export function formatHostPort(h: HostPort): string {
  return isIP(h.host) === 6 ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** '::ffff:10.0.0.5' -> '10.0.0.5'; anything else unchanged. */
export function normalizeAddress(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr;
}

/**
 * The unit per-address limits count by: an IPv4 address itself, an IPv6 address's /64 (one host
 * is commonly given a whole /64, so counting single IPv6 addresses would bound nothing).
 */
export function addressGroup(addr: string): string {
  const ip = normalizeAddress(addr).replace(/%.*$/, '');
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
