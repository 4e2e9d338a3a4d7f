// The TCP gate: what a new connection must pass before a byte of it is read (the allowlist, the
// per-address rate limit, a free handshake slot; "address" meaning an IPv6 /64). Refusals are recorded through the audit.
//
// Handshake slots are capped overall and per address (an IPv6 /64), so that a few addresses
// holding connections open in their handshake cannot take every slot: anyone else still gets one.

import type { Socket } from 'node:net';
import type { Allowlist } from '../security/allowlist.ts';
import { addressGroup, normalizeAddress } from '../net/address.ts';
import { RateLimiter } from '../security/rate-limit.ts';
import type { Audit } from './audit.ts';

/** Connections accepted but not through TLS and hello yet; past this new ones are dropped. */
export const MAX_HANDSHAKING = 256;
/** The same from one address (or IPv6 /64). */
export const MAX_HANDSHAKING_PER_ADDRESS = 16;
/** New TCP connections a second from one address (a burst of twice this is allowed). */
export const CONNECTS_PER_SECOND = 20;

export class TcpGate {
  private readonly allow: Allowlist;
  private readonly limiter: RateLimiter;
  private readonly maxHandshaking: number;
  private readonly maxPerAddress: number;
  /** slots held, by address group (no entry at zero) */
  private readonly held = new Map<string, number>();
  private readonly audit: Audit;
  private slots = 0;

  constructor(o: { allow: Allowlist; audit: Audit; now: () => number; connectsPerSecond?: number; maxHandshaking?: number; maxHandshakingPerAddress?: number }) {
    this.allow = o.allow;
    this.audit = o.audit;
    this.limiter = new RateLimiter({ rate: o.connectsPerSecond ?? CONNECTS_PER_SECOND, now: o.now });
    this.maxHandshaking = o.maxHandshaking ?? MAX_HANDSHAKING;
    this.maxPerAddress = o.maxHandshakingPerAddress ?? MAX_HANDSHAKING_PER_ADDRESS;
  }

  /** Connections holding a handshake slot now. */
  get handshaking(): number {
    return this.slots;
  }

  /**
   * Checks a new (paused) connection. Refused: destroyed, nothing read, undefined returned.
   * Let in: returns its address and the function that frees its handshake slot (idempotent).
   */
  admit(socket: Socket): { address: string; release: () => void } | undefined {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const refuse = (code: 'NOT_ALLOWED' | 'RATE_LIMITED' | 'TOO_MANY_HANDSHAKES') => {
      socket.destroy();
      this.audit.refused(address, 'tcp', code);
      return undefined;
    };
    if (!this.allow.allows(address)) return refuse('NOT_ALLOWED');
    // Counted by /64 for IPv6: a host given a /64 could otherwise take a fresh address per connection.
    const group = addressGroup(address);
    if (!this.limiter.take(group)) return refuse('RATE_LIMITED');
    if (this.slots >= this.maxHandshaking) return refuse('TOO_MANY_HANDSHAKES');
    const mine = this.held.get(group) ?? 0;
    if (mine >= this.maxPerAddress) return refuse('TOO_MANY_HANDSHAKES');
    this.slots++;
    this.held.set(group, mine + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.slots--;
      const n = (this.held.get(group) ?? 1) - 1;
      if (n > 0) this.held.set(group, n);
      else this.held.delete(group);
    };
    socket.once('close', release);
    return { address, release };
  }
}
