// The manager's UDP side: each alert datagram is checked (allowlist, size, form, the agent's
// session key, MAC) and dropped with a count at the first failure; a new alert is recorded
// (flushed to disk) and acknowledged to its sender only once it is on disk. A resend of one
// already on disk is acknowledged again (the first ack was lost); while the disk fails nothing is
// acknowledged, so the agent keeps resending until the record has it. Only a datagram whose MAC
// verified with the agent's current session key is answered, and the ack is sealed with that key
// (for an agent that named signed-acks in its hello; older agents get the plain ack they parse).

import { HwError } from '../errors.ts';
import { type Allowlist } from '../security/allowlist.ts';
import { normalizeAddress } from '../net/address.ts';
import { seal, split, verify } from '../security/udp-mac.ts';
import { MAX_DATAGRAM_BYTES } from '../wire/constants.ts';
import { parseAlertDatagram } from '../wire/messages.ts';
import type { LogThrottle } from '../util/throttle.ts';
import type { ManagerState } from './state.ts';

export type DropReason = 'not-allowed' | 'oversized' | 'malformed' | 'unknown-agent' | 'bad-mac' | 'replay';

export class AlertIntake {
  private readonly keys = new Map<string, { key: Buffer; signedAcks: boolean }>();
  private readonly counts = new Map<DropReason, number>();
  private readonly o: {
    allow: Allowlist;
    state: ManagerState;
    throttle: LogThrottle;
    now: () => number;
    /** a refused source, reported like a refused TCP connection */
    refuse: (address: string) => void;
    /** sends the acknowledgement back */
    reply: (buf: Buffer, port: number, address: string) => void;
  };

  constructor(o: AlertIntake['o']) {
    this.o = o;
  }

  /** The MAC key of an agent's current session (agreed in its welcome); signedAcks: it verifies acks. */
  setKey(agentId: string, key: Buffer, signedAcks: boolean): void {
    this.keys.set(agentId, { key, signedAcks });
  }

  dropKey(agentId: string): void {
    this.keys.delete(agentId);
  }

  /** Datagrams dropped since start, by reason. */
  dropped(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  onDatagram(buf: Buffer, from: string, port: number): void {
    const address = normalizeAddress(from);
    if (!this.o.allow.allows(address)) {
      this.drop('not-allowed', address);
      this.o.refuse(address);
      return;
    }
    if (buf.length > MAX_DATAGRAM_BYTES) return this.drop('oversized', address);
    const parts = split(buf);
    let d;
    try {
      if (!parts) throw new HwError('BAD_MAC', 'no MAC');
      d = parseAlertDatagram(parts.body);
    } catch {
      return this.drop('malformed', address);
    }
    // Only a connected, accepted agent has a key; anything else cannot be checked and is dropped.
    const session = this.keys.get(d.agentId);
    if (!session || this.o.state.agent(d.agentId)?.trust !== 'accepted') return this.drop('unknown-agent', address);
    if (!verify(session.key, parts!.body, parts!.mac)) return this.drop('bad-mac', address);
    // Already shown: a retransmission or a replay; it is counted, and never shown twice.
    if (!this.o.state.alert(d.agentId, d, 'udp')) this.drop('replay', address);
    if (!this.o.state.isRecorded(d.agentId, d.epoch, d.seq)) return;
    const ack = Buffer.from(JSON.stringify({ type: 'ack', agentId: d.agentId, ...(d.epoch ? { epoch: d.epoch } : {}), seq: d.seq }));
    this.o.reply(session.signedAcks ? seal(session.key, ack) : ack, port, from);
  }

  private drop(reason: DropReason, address: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (reason === 'not-allowed' || reason === 'replay') return; // logged as a refusal / harmless
    const n = this.o.throttle.note(`${reason}:${address}`);
    if (n) this.o.state.record({ at: this.o.now(), event: 'udp-dropped', reason, address, count: n });
  }
}
