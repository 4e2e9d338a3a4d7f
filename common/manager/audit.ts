// The record of who did what: every refused connection, protocol error, decision on an agent's key
// and command with its outcome goes to events.jsonl through here (repeats throttled), with the
// human-readable line for the console where an administrator should see it.

import { toWireError } from '../errors.ts';
import { LogThrottle } from '../util/throttle.ts';
import type { ManagerState, AgentRecord } from './state.ts';
import { inert } from '../util/inert.ts';

export type RefusalCode = 'NOT_ALLOWED' | 'RATE_LIMITED' | 'TOO_MANY_HANDSHAKES';

export class Audit {
  readonly throttle = new LogThrottle();
  private readonly state: ManagerState;
  private readonly now: () => number;
  private readonly notice: (line: string) => void;

  constructor(o: { state: ManagerState; now: () => number; notice: (line: string) => void }) {
    this.state = o.state;
    this.now = o.now;
    this.notice = o.notice;
  }

  /** A connection or datagram refused before anything was read from it. */
  refused(address: string, proto: 'tcp' | 'udp', code: RefusalCode): void {
    const n = this.throttle.note(`${proto}:${code}:${address}`);
    if (!n) return;
    this.state.record({ at: this.now(), event: 'refused', address, proto, code, count: n });
    const why = code === 'NOT_ALLOWED' ? `not in the allowlist; add it with --allow ${address}`
      : code === 'RATE_LIMITED' ? 'too many new connections a second from that address'
      : 'too many connections still in their handshake (from that address, or in all)';
    this.notice(`refused ${proto.toUpperCase()} from ${address}${n > 1 ? ` (${n} times)` : ''}: ${why}`);
  }

  /** A connection closed for a fault (bad frame, slow peer, credit exceeded...), throttled per address and code. */
  protocolError(address: string, err: Error, agentId?: string): void {
    const e = toWireError(err);
    const n = this.throttle.note(`proto:${address}:${e.code}`);
    if (n) this.state.record({ at: this.now(), event: 'protocol-error', address, code: e.code, message: e.message, count: n, ...(agentId ? { agent: { id: agentId } } : {}) });
  }

  /** An agent refused at its hello (revoked key, name taken, identity mismatch...). */
  refusedAgent(address: string, agent: { id: string; name: string }, fingerprint: string, err: { code: string; message: string }): void {
    // A flood of new ids from one address is one throttled line, not a line per id.
    const n = this.throttle.note(`hello:${address}:${err.code === 'RATE_LIMITED' || err.code === 'BAD_AGENT_ID' ? '' : agent.id}:${err.code}`);
    if (!n) return;
    this.state.record({ at: this.now(), event: 'refused', address, proto: 'tls', code: err.code, message: err.message, agent, fingerprint, count: n });
    this.notice(`refused agent "${inert(agent.name)}" from ${address}${n > 1 ? ` (${n} times)` : ''}: ${inert(err.message)}`);
  }

  /** A pending agent forgotten without a decision: its time ran out, or its key enrolled again under a new id. */
  pendingDropped(e: { id: string; name: string; fingerprint: string; address?: string; since: number }, why: 'expired' | 'replaced'): void {
    this.state.record({
      at: this.now(), event: why === 'expired' ? 'pending-expired' : 'pending-replaced', agent: { id: e.id, name: e.name },
      fingerprint: e.fingerprint, address: e.address, since: new Date(e.since).toISOString(),
    });
    if (why === 'expired') this.notice(`pending agent ${e.name} (${e.address ?? '?'}) was not accepted in time: forgotten (it may ask again)`);
  }

  /** An administrator's decision on an agent's key; `flush` false for one of many (the caller flushes once). */
  trust(event: 'accept' | 'revoke' | 'reject', rec: AgentRecord, by: string, flush = true): void {
    this.state.record({ at: this.now(), event, agent: { id: rec.id, name: rec.name }, fingerprint: rec.fingerprint, by }, flush);
  }

  /** A command run on an agent, with its outcome. */
  command(rec: AgentRecord, cmd: string, args: Record<string, unknown>, by: string, started: number, outcome: { ok: true; [k: string]: unknown } | { ok: false; error: unknown }): void {
    const o = outcome.ok ? outcome : { ok: false, error: toWireError(outcome.error) };
    this.state.record({ at: this.now(), event: 'command', agent: { id: rec.id, name: rec.name }, cmd, args, by, ...o, ms: this.now() - started });
  }
}
