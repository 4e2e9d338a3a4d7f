// Admission and enrollment: who may join at its hello (protocol version, its id, the enrollment
// file's verdict on its key, the enroll token or --auto-accept), and the administrator's decisions
// (accept, revoke, reject). The enrolled agents are also the registry the state is built from at
// start.
//
// Agent ids are UUIDs the agents draw. An id of the older free form is let in only when it is
// already in the registry (an agent enrolled before the rule keeps working); a new agent with one
// is refused (BAD_AGENT_ID) and makes itself a UUID once its agent-id file is deleted.

import { PROTOCOL_VERSION } from '../wire/constants.ts';
import { HwError } from '../errors.ts';
import { Allowlist } from '../security/allowlist.ts';
import { isAgentUuid, type Hello } from '../wire/messages.ts';
import type { Audit } from './audit.ts';
import { Enrollment, type DropReason, type Enrolled, type EnrollmentOptions, type TrustStatus } from './enrollment.ts';
import type { AgentRecord, ManagerState } from './state.ts';
import { secretMatches } from '../util/secret.ts';
import { InstallTokens } from './install-tokens.ts';
import type { RejectSelection } from '../api/types.ts';

export class Admission {
  readonly enrollment: Enrollment;
  /** one-use tokens with an expiry, made by `manager install-command` */
  readonly installTokens: InstallTokens;
  private readonly state: ManagerState;
  private readonly audit: Audit;
  private readonly enrollToken: string | undefined;
  /** changed by a config reload */
  autoAccept: boolean;
  private readonly now: () => number;

  private readonly disconnect: (id: string, reason: string) => void;

  /** `disconnect` ends an agent's connection, telling it why (a pending entry dropped or rejected). */
  constructor(o: {
    dataDir: string; state: ManagerState; audit: Audit; now: () => number; enrollToken?: string; autoAccept?: boolean;
    onStorage?: (error: string | null) => void; disconnect?: (id: string, reason: string) => void;
    limits?: Pick<EnrollmentOptions, 'maxPending' | 'maxPendingPerAddress' | 'pendingTtlMs'>;
  }) {
    this.enrollment = new Enrollment(o.dataDir, {
      ...o.limits, ...(o.onStorage ? { onStorage: o.onStorage } : {}), onDropped: (e, why) => this.dropped(e, why),
    });
    this.installTokens = new InstallTokens(o.dataDir);
    this.disconnect = o.disconnect ?? (() => {});
    this.state = o.state;
    this.audit = o.audit;
    this.enrollToken = o.enrollToken;
    this.autoAccept = !!o.autoAccept;
    this.now = o.now;
  }

  /** Lists every enrolled agent in the state, offline until it connects. */
  registerAll(): void {
    for (const e of this.enrollment.all()) this.state.register(e);
  }

  /** Decides on an agent's hello: its trust status, or a thrown HwError to refuse it with. */
  admit(hello: Hello, address: string, fingerprint: string): TrustStatus {
    if (hello.v !== PROTOCOL_VERSION) {
      throw new HwError('PROTOCOL_VERSION', `protocol version ${hello.v} is not supported (manager speaks ${PROTOCOL_VERSION})`);
    }
    if (!isAgentUuid(hello.id) && !this.enrollment.get(hello.id)) {
      throw new HwError('BAD_AGENT_ID', `agent id "${hello.id}" is not a UUID and not enrolled here: delete the agent's <state-dir>/agent-id, and it makes itself a new one`);
    }
    const token = this.enrollToken;
    let tokenOk = !!token && !!hello.enrollToken && secretMatches(hello.enrollToken, token);
    // An install token only matters to an agent not yet accepted: one that enrolled with it keeps
    // it in its unit and shows it again on every restart, after it expired.
    const known = this.enrollment.get(hello.id);
    const install = !tokenOk && hello.enrollToken && !(known?.status === 'accepted' && known.fingerprint === fingerprint)
      ? this.installTokens.check(hello.enrollToken, hello.id, this.now()) : undefined;
    if (install) tokenOk = true;
    const status = this.enrollment.admit({
      id: hello.id, name: hello.name, fingerprint, address,
      hostname: hello.hostname, platform: hello.platform, arch: hello.arch, version: hello.version, interval: hello.interval,
    }, this.autoAccept || tokenOk, this.now());
    if (install) this.installTokens.use(install, hello.id, this.now());
    return status;
  }

  /**
   * An administrator accepts a pending agent; `tell` lets it know at once. An agent already
   * accepted is left as it is (nothing recorded, nothing sent).
   */
  accept(ref: string, by: string, tell: (id: string) => void): AgentRecord {
    const rec = this.state.find(ref, true);
    if (rec.trust === 'accepted') return rec;
    this.enrollment.accept(rec.id);
    this.state.setTrust(rec.id, 'accepted');
    this.audit.trust('accept', rec, by);
    tell(rec.id);
    return rec;
  }

  acceptAll(by: string, tell: (id: string) => void): AgentRecord[] {
    return this.state.pending().map((a) => this.accept(`id:${a.id}`, by, tell));
  }

  /** Forgets pending entries whose time ran out (each recorded, its connection ended). */
  expire(): Enrolled[] {
    const gone = this.enrollment.expire(this.now());
    if (gone.length) this.state.flush();
    return gone;
  }

  /**
   * Refuses pending agents' keys in bulk: they are forgotten, their keys refused from now on (as
   * revoke does; an agent rejected by mistake needs a new key), and they are disconnected.
   * Throws BAD_ARGS for an accepted agent (revoke it) or a bad address.
   */
  reject(sel: RejectSelection, by: string): AgentRecord[] {
    let targets: AgentRecord[];
    if ('agent' in sel) {
      const rec = this.state.find(sel.agent, true);
      if (rec.trust !== 'pending') throw new HwError('BAD_ARGS', `agent "${rec.name}" is accepted, not pending: revoke it instead`);
      targets = [rec];
    } else if ('address' in sel) {
      let range: Allowlist;
      try {
        range = new Allowlist([sel.address]);
      } catch {
        throw new HwError('BAD_ARGS', `"${sel.address}" is not an IP address or CIDR range`);
      }
      if (!range.entries.length) throw new HwError('BAD_ARGS', 'reject --address needs an IP address or CIDR range');
      targets = this.state.pending().filter((a) => range.allows(a.address));
    } else {
      targets = this.state.pending();
    }
    for (const rec of targets) {
      this.enrollment.revoke(rec.id, 'rejected', false);
      this.audit.trust('reject', rec, by, false);
      this.disconnect(rec.id, 'REJECTED: this agent\'s key was rejected by the administrator');
      this.state.remove(rec.id);
    }
    if (targets.length) {
      this.enrollment.flush();
      this.state.flush();
    }
    return targets;
  }

  /** A pending entry the enrollment dropped itself: recorded, disconnected, forgotten. */
  private dropped(e: Enrolled, why: DropReason): void {
    this.audit.pendingDropped(e, why);
    const ttl = this.enrollment.pendingTtlMs;
    this.disconnect(e.id, why === 'expired'
      ? `ENROLLMENT_EXPIRED: not accepted within ${ttl >= 3600_000 ? `${Math.round(ttl / 3600_000)} h` : `${Math.round(ttl / 1000)} s`}; connect again to ask anew`
      : 'DISCONNECTED: this key enrolled again under another id');
    this.state.remove(e.id);
  }

  /** Forgets an agent and refuses its key from now on; `disconnect` ends its connection. */
  revoke(ref: string, by: string, disconnect: (id: string) => void): AgentRecord {
    const rec = this.state.find(ref, true);
    this.enrollment.revoke(rec.id);
    this.audit.trust('revoke', rec, by);
    disconnect(rec.id);
    this.state.remove(rec.id);
    return rec;
  }
}
