// The TCP gate: what a new connection must pass before a byte of it is read (the allowlist, the
// per-address rate limit, a free handshake slot). Refusals are recorded through the audit.

import type { Socket } from 'node:net';
import { CONNECTS_PER_SECOND, MAX_HANDSHAKING } from '../constants.ts';
import { normalizeAddress, type Allowlist } from '../security/allowlist.ts';
import { RateLimiter } from '../security/rate-limit.ts';
import type { Audit } from './audit.ts';

export class TcpGate {
  private readonly allow: Allowlist;
  private readonly limiter: RateLimiter;
  private readonly maxHandshaking: number;
  private readonly audit: Audit;
  private slots = 0;

  constructor(o: { allow: Allowlist; audit: Audit; now: () => number; connectsPerSecond?: number; maxHandshaking?: number }) {
    this.allow = o.allow;
    this.audit = o.audit;
    this.limiter = new RateLimiter({ rate: o.connectsPerSecond ?? CONNECTS_PER_SECOND, now: o.now });
    this.maxHandshaking = o.maxHandshaking ?? MAX_HANDSHAKING;
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
    if (!this.limiter.take(address)) return refuse('RATE_LIMITED');
    if (this.slots >= this.maxHandshaking) return refuse('TOO_MANY_HANDSHAKES');
    this.slots++;
    let held = true;
    const release = () => {
      if (held) this.slots--;
      held = false;
    };
    socket.once('close', release);
    return { address, release };
  }
}
