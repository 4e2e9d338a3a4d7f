// The fleet's meter lines (GET /api/limits), worked out once per rules change rather than per request
// per agent: each agent's lines are kept until the rules are reloaded or what picks its rules or its
// mounts changes (name, address, labels, platform, the mounts it reports). The answer names each
// distinct set once: a thousand agents under the same rules share one.

import type { FleetLimits } from '../api/types.ts';
import type { RulesConfig } from '../rules/config.ts';
import { agentLimits, type AgentLimits } from '../rules/meter-limits.ts';
import type { Metric, Rule } from '../rules/rule.ts';
import type { AgentRecord } from './state.ts';

export type LimitsAgent = Pick<AgentRecord, 'id' | 'name' | 'address' | 'labels' | 'platform' | 'mounts'>;

interface Entry {
  /** what the lines were worked out from */
  key: string;
  limits: AgentLimits | null;
  /** the lines as JSON: the same text is the same set */
  json: string;
}

export class LimitsCache {
  private cfg: RulesConfig | undefined | null = null;
  private readonly byAgent = new Map<string, Entry>();
  private metrics: Record<string, Metric> = {};

  /** `rulesOf`: the rules an agent is sent (null: the manager sets none). */
  constructor(private readonly o: { config: () => RulesConfig | undefined; rulesOf: (rec: LimitsAgent) => readonly Rule[] | null }) {}

  fleet(agents: Iterable<LimitsAgent>): FleetLimits {
    const cfg = this.o.config();
    if (cfg !== this.cfg) {
      this.cfg = cfg;
      this.byAgent.clear();
      this.metrics = Object.fromEntries((cfg?.rules ?? []).map((r) => [r.name, r.metric]));
    }
    const sets: (AgentLimits | null)[] = [];
    const index = new Map<string, number>();
    const ids: Record<string, number> = {};
    const seen = new Set<string>();
    for (const rec of agents) {
      const e = this.entry(rec);
      seen.add(rec.id);
      let i = index.get(e.json);
      if (i === undefined) {
        index.set(e.json, (i = sets.length));
        sets.push(e.limits);
      }
      ids[rec.id] = i;
    }
    for (const id of this.byAgent.keys()) if (!seen.has(id)) this.byAgent.delete(id);
    return { metrics: this.metrics, sets, agents: ids };
  }

  private entry(rec: LimitsAgent): Entry {
    const key = JSON.stringify([rec.name, rec.address, rec.labels, rec.platform, rec.mounts.map((m) => [m.mount, m.type ?? null])]);
    const old = this.byAgent.get(rec.id);
    if (old?.key === key) return old;
    const limits = agentLimits(this.o.rulesOf(rec), rec);
    const e = { key, limits, json: JSON.stringify(limits) };
    this.byAgent.set(rec.id, e);
    return e;
  }
}
