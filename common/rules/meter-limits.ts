// The lines a host's CPU, memory and disk meters are judged against, from the rules it is sent: the
// lowest `above` threshold of the metric's rules; for disk, per mount, only the rules that judge
// that mount. The manager works these out (common/manager/limits-cache.ts); the dashboard colours by them.

import type { Rule } from './rule.ts';
import { globMatch } from './selector.ts';

export type MeterMetric = 'cpu' | 'memory' | 'disk';

/** One meter's line: the lowest `above` threshold of the host's rules for that figure, and its rule. */
export interface MeterLimit {
  rule: string;
  threshold: number;
}

/** The lines one agent's CPU, memory and disk meters are judged against. */
export interface AgentLimits {
  cpu: MeterLimit | null;
  memory: MeterLimit | null;
  /** each mount the agent reports (its root when it reports none): null where no disk rule judges it */
  disk: Record<string, MeterLimit | null>;
}

/** The root file system: `/`, or a drive like `C:`. */
export function isRoot(mount: string): boolean {
  return mount === '/' || /^[A-Z]:\\?$/i.test(mount);
}

/** The mount an agent's headline disk figure is, when it reports no mounts. */
export function headlineMount(platform: string | undefined): string {
  return platform === 'win32' ? 'C:' : '/';
}

/**
 * The lowest `above` threshold of the metric's rules; for disk, the rules that judge `mount`
 * (per-mount rules whose filters take it, and a rule on the root file system when it is the root).
 */
export function lowestAbove(rules: readonly Rule[], metric: MeterMetric, mount?: { mount: string; type?: string | null }): MeterLimit | null {
  let best: Rule | undefined;
  for (const r of rules) {
    if (r.metric !== metric || r.op !== 'above') continue;
    if (metric === 'disk' && mount) {
      const judged = r.per === 'mount'
        ? !(mount.type && r.excludeFstypes?.includes(mount.type)) && (!r.only || r.only.some((g) => globMatch(g, mount.mount)))
        : isRoot(mount.mount);
      if (!judged) continue;
    }
    if (!best || r.threshold < best.threshold) best = r;
  }
  return best ? { rule: best.name, threshold: best.threshold } : null;
}

/** One agent's lines from the rules it is sent (null: the manager sets none) and the mounts it reports. */
export function agentLimits(rules: readonly Rule[] | null, agent: { platform?: string; mounts: readonly { mount: string; type?: string | null }[] }): AgentLimits | null {
  if (!rules) return null;
  const mounts = agent.mounts.length ? agent.mounts : [{ mount: headlineMount(agent.platform) }];
  const disk: Record<string, MeterLimit | null> = {};
  for (const m of mounts) disk[m.mount] = lowestAbove(rules, 'disk', m);
  return { cpu: lowestAbove(rules, 'cpu'), memory: lowestAbove(rules, 'memory'), disk };
}
