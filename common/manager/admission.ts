// Admission and enrollment: who may join at its hello (protocol version, the enrollment file's
// verdict on its key, the enroll token or --auto-accept), and the administrator's decisions
// (accept, revoke). The enrolled agents are also the registry the state is built from at start.

import { PROTOCOL_VERSION } from '../constants.ts';
import { HwError } from '../errors.ts';
import type { Hello } from '../wire/messages.ts';
import type { Audit } from './audit.ts';
import { Enrollment, type TrustStatus } from './enrollment.ts';
import type { AgentRecord, ManagerState } from './state.ts';
import { tokenMatches } from './token.ts';

export class Admission {
  readonly enrollment: Enrollment;
  private readonly state: ManagerState;
  private readonly audit: Audit;
  private readonly enrollToken: string | undefined;
  /** changed by a config reload */
  autoAccept: boolean;
  private readonly now: () => number;

  constructor(o: {
    dataDir: string; state: ManagerState; audit: Audit; now: () => number; enrollToken?: string; autoAccept?: boolean;
    onStorage?: (error: string | null) => void;
  }) {
    this.enrollment = new Enrollment(o.dataDir, o.onStorage ? { onStorage: o.onStorage } : {});
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
    const token = this.enrollToken;
    const tokenOk = !!token && !!hello.enrollToken && tokenMatches(hello.enrollToken, token);
    return this.enrollment.admit({
      id: hello.id, name: hello.name, fingerprint, address,
      hostname: hello.hostname, platform: hello.platform, arch: hello.arch, version: hello.version, interval: hello.interval,
    }, this.autoAccept || tokenOk, this.now());
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
    return this.state.pending().map((a) => this.accept(a.id, by, tell));
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
