// The manager's side of the rules: the config's rules and overrides, the set each agent is sent
// (after its welcome, and again when a reload changes it), and agent_down's silence, judged here.

import type { RulesConfig } from '../rules/config.ts';
import { rulesFor, rulesVersion } from '../rules/resolve.ts';
import { FEATURES } from '../wire/messages.ts';
import type { RuleSetForAgent } from '../rules/rule.ts';
import type { AgentLink } from './agent-link.ts';
import type { Liveness } from './liveness.ts';
import type { AgentRecord } from './state.ts';

export class RulesHub {
  private cfg: RulesConfig | undefined;
  /** agents that did not name `services`: they are not sent service rules (their validator would refuse the whole set) */
  private readonly noServices = new Set<string>();

  constructor(private readonly o: { liveness: Liveness; defaultSilentIntervals: number }) {}

  get config(): RulesConfig | undefined {
    return this.cfg;
  }

  /** The rules `rec` should run; null when the manager sets none (the agent's flags apply). */
  forAgent(rec: Pick<AgentRecord, 'id' | 'name' | 'address' | 'labels'>): RuleSetForAgent | null {
    if (!this.cfg) return null;
    const set = rulesFor(this.cfg, rec);
    if (!this.noServices.has(rec.id) || !set.rules.some((r) => r.metric === 'service')) return set;
    const rules = set.rules.filter((r) => r.metric !== 'service');
    return { version: rulesVersion(rules), rules };
  }

  /** Sends `rec` its rules, if it understands them (its hello said which rules it runs). */
  send(link: AgentLink, rec: AgentRecord): void {
    if (link.features.has(FEATURES.services)) this.noServices.delete(rec.id);
    else this.noServices.add(rec.id);
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
