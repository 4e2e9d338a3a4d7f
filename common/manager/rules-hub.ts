// The manager's side of the rules: the config's rules and overrides, the set each agent is sent
// (after its welcome, and again when a reload changes it), and agent_down's silence, judged here.

import type { RulesConfig } from '../rules/config.ts';
import { rulesFor, rulesVersion } from '../rules/resolve.ts';
import { FEATURES } from '../wire/messages.ts';
import type { Metric, RuleSetForAgent } from '../rules/rule.ts';
import type { AgentLink } from './agent-link.ts';
import type { Liveness } from './liveness.ts';
import type { AgentRecord } from './state.ts';
import { LimitsCache, type LimitsAgent } from './limits-cache.ts';
import type { FleetLimits } from '../api/types.ts';

/** The feature an agent must name to be sent rules of a metric (an older one's validator would refuse the whole set). */
export const METRIC_FEATURES: Partial<Record<Metric, string>> = {
  service: FEATURES.services, process: FEATURES.processRules, container: FEATURES.containerRules,
};

export class RulesHub {
  private cfg: RulesConfig | undefined;
  /** by agent id, the metrics of METRIC_FEATURES its hello did not name a feature for: not sent those rules */
  private readonly lacking = new Map<string, Set<Metric>>();

  private readonly limitsCache = new LimitsCache({ config: () => this.cfg, rulesOf: (rec) => this.forAgent(rec)?.rules ?? null });

  constructor(private readonly o: { liveness: Liveness; defaultSilentIntervals: number }) {}

  /** The lines the dashboard's meters are coloured by (GET /api/limits), worked out again only when they can change. */
  limits(agents: Iterable<LimitsAgent>): FleetLimits {
    return this.limitsCache.fleet(agents);
  }

  get config(): RulesConfig | undefined {
    return this.cfg;
  }

  /** The rules `rec` should run; null when the manager sets none (the agent's flags apply). */
  forAgent(rec: Pick<AgentRecord, 'id' | 'name' | 'address' | 'labels'>): RuleSetForAgent | null {
    if (!this.cfg) return null;
    const set = rulesFor(this.cfg, rec);
    const lacks = this.lacking.get(rec.id);
    if (!lacks || !set.rules.some((r) => lacks.has(r.metric))) return set;
    const rules = set.rules.filter((r) => !lacks.has(r.metric));
    return { version: rulesVersion(rules), rules };
  }

  /** The rules of `rec`'s set left out because the agent is too old for them (its hello lacked their feature). */
  notSent(rec: Pick<AgentRecord, 'id' | 'name' | 'address' | 'labels'>): { rule: string; feature: string }[] {
    const lacks = this.lacking.get(rec.id);
    if (!this.cfg || !lacks) return [];
    return rulesFor(this.cfg, rec).rules.filter((r) => lacks.has(r.metric)).map((r) => ({ rule: r.name, feature: METRIC_FEATURES[r.metric]! }));
  }

  /** Sends `rec` its rules, if it understands them (its hello said which rules it runs). */
  send(link: AgentLink, rec: AgentRecord): void {
    const lacks = new Set<Metric>();
    for (const [metric, feature] of Object.entries(METRIC_FEATURES) as [Metric, string][]) if (!link.features.has(feature)) lacks.add(metric);
    if (lacks.size) this.lacking.set(rec.id, lacks);
    else this.lacking.delete(rec.id);
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
