// The agent's side of upgrades, in one place for agent.ts: the pinned upgrade key, the receiver of
// the manager's transfer, and at each welcome the outcome of a switch that just happened (B
// confirms it was welcomed, which ends the watcher's wait; A back after a rollback says why).

import type { KeyObject } from 'node:crypto';
import { HwError } from '../errors.ts';
import type { ManagerMessage, Welcome } from '../wire/messages.ts';
import type { Link } from './connection.ts';
import { UpgradeKeyPin } from './upgrade-key-pin.ts';
import { UpgradeReceiver, type VerifiedUpgrade } from './upgrade-receiver.ts';
import { readUpgradeState, writeUpgradeState } from './upgrade-switch.ts';

export interface AgentUpgradesOptions {
  allowed: boolean;
  stateDir?: string;
  /** --upgrade-key */
  key?: KeyObject;
  exe: string;
  version: string;
  verified: (u: VerifiedUpgrade) => void;
  log: (line: string) => void;
}

export class AgentUpgrades {
  private readonly o: AgentUpgradesOptions;
  private readonly pin: UpgradeKeyPin;
  private readonly receiver: UpgradeReceiver;

  constructor(o: AgentUpgradesOptions) {
    this.o = o;
    this.pin = new UpgradeKeyPin({ ...(o.stateDir ? { stateDir: o.stateDir } : {}), ...(o.key ? { given: o.key } : {}), log: o.log });
    this.receiver = new UpgradeReceiver({ allowed: o.allowed, key: () => this.pin.key, exe: o.exe, verified: o.verified, log: o.log });
  }

  onWelcome(peer: Link, w: Welcome): void {
    if (w.upgradeKey && w.status === 'accepted') {
      const r = this.pin.offer(w.upgradeKey);
      if (r === 'pinned') this.o.log(`pinned the manager's upgrade key ${w.upgradeKey}`);
      else if (r === 'ignored') this.o.log('the manager offers another upgrade key than the one pinned: ignored (change it on this host with --upgrade-key)');
    }
    if (w.status === 'accepted') this.outcome(peer);
  }

  /** Routes an upgrade message; false for any other. */
  onMessage(peer: Link, msg: ManagerMessage): boolean {
    switch (msg.type) {
      case 'upgrade':
        void this.receiver.start(peer, msg);
        return true;
      case 'upgrade-end':
        void this.receiver.end(peer, msg);
        return true;
      case 'upgrade-cancel':
        this.receiver.cancel(msg.id);
        return true;
      default:
        return false;
    }
  }

  onData(peer: Link, id: number, parts: Buffer[], bytes: number): void {
    this.receiver.data(peer, id, parts, bytes);
  }

  onLost(): void {
    this.receiver.lost();
  }

  /** A switch in upgrade.json: confirmed by B, or reported by A back after a rollback. */
  private outcome(peer: Link): void {
    const dir = this.o.stateDir;
    if (!dir) return;
    let s;
    try {
      s = readUpgradeState(dir);
    } catch (err) {
      this.o.log((err as HwError).message);
      return;
    }
    if (!s) return;
    const v = this.o.version;
    const tell = (ok: boolean, reason?: string) => peer.post({
      type: 'upgrade-outcome', ok, from: s.from, to: s.to, version: v, ...(reason ? { reason } : {}), ...(s.by ? { by: s.by } : {}),
    });
    if ((s.phase === 'switching' || s.phase === 'probation') && v === s.to && v !== s.from) {
      writeUpgradeState(dir, { ...s, phase: 'confirmed', at: Date.now() });
      this.o.log(`upgraded from ${s.from} to ${s.to}: welcomed by the manager`);
      tell(true);
    } else if (s.phase === 'rolled-back' || ((s.phase === 'switching' || s.phase === 'probation') && v === s.from)) {
      const reason = s.reason ?? 'the switch was interrupted (the previous agent is running)';
      writeUpgradeState(dir, { ...s, phase: 'reported', reason, at: Date.now() });
      tell(false, reason);
    }
  }
}
