// The manager's side of the rules: the config's rules and overrides, the set each agent is sent
// (after its welcome, and again when a reload changes it), and agent_down's silence, judged here.

import type { RulesConfig } from '../rules/config.ts';
import { rulesFor } from '../rules/resolve.ts';
import type { RuleSetForAgent } from '../rules/rule.ts';
import type { AgentLink } from './agent-link.ts';
import type { Liveness } from './liveness.ts';
import type { AgentRecord } from './state.ts';

export class RulesHub {
  private cfg: RulesConfig | undefined;

  constructor(private readonly o: { liveness: Liveness; defaultSilentIntervals: number }) {}

  get config(): RulesConfig | undefined {
    return this.cfg;
  }

  /** The rules `rec` should run; null when the manager sets none (the agent's flags apply). */
  forAgent(rec: Pick<AgentRecord, 'id' | 'name' | 'address' | 'labels'>): RuleSetForAgent | null {
    return this.cfg ? rulesFor(this.cfg, rec) : null;
  }

  /** Sends `rec` its rules, if it understands them (its hello said which rules it runs). */
  send(link: AgentLink, rec: AgentRecord): void {
    if (rec.rulesVersion === null) return;
    const set = this.forAgent(rec);
    const version = set?.version ?? '';
    // Already running them: nothing to send (an agent back on its flags reports '').
    if (version === rec.rulesVersion && (set !== null || rec.rulesVersion === '')) return;
    link.peer.post({ type: 'rules', version, rules: set ? set.rules : null });
  }

  /** New rules from a reload: each connected agent whose set changed is sent it. */
  set(cfg: RulesConfig | undefined, online: Iterable<[AgentLink, AgentRecord]>): void {
    this.cfg = cfg;
    this.o.liveness.silentIntervals = cfg?.agentDownAfter ?? this.o.defaultSilentIntervals;
    for (const [link, rec] of online) this.send(link, rec);
  }
}
