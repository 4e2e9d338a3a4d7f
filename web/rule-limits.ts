// The rule lines a fleet meter is judged against: the lowest threshold of the host's own rules that
// applies, a warning band from WARN_FROM of it, the alert at and above it. No DOM here.

import { globMatch } from '../common/rules/selector.ts';
import type { RuleView } from './types.ts';

/** The warning band starts at this share of the threshold (80% of an 80% threshold: 64%). */
const WARN_FROM = 0.8;

export type Level = 'ok' | 'warn' | 'alert' | 'none';
export type MeterMetric = 'cpu' | 'memory' | 'disk';

export interface Limit {
  rule: string;
  threshold: number;
  warnFrom: number;
}

/**
 * The lowest `above` threshold of the metric's rules; for disk, the rules that judge `mount`
 * (per-mount rules whose filters take it, and a rule on the root file system when it is the root).
 */
export function limitOf(rules: RuleView[] | null | undefined, metric: MeterMetric, mount?: { mount: string; type?: string | null; root: boolean }): Limit | null {
  let best: RuleView | undefined;
  for (const r of rules ?? []) {
    if (r.metric !== metric || r.op !== 'above') continue;
    if (metric === 'disk' && mount) {
      const judged = r.per === 'mount'
        ? !(mount.type && r.excludeFstypes?.includes(mount.type)) && (!r.only || r.only.some((g) => globMatch(g, mount.mount)))
        : mount.root;
      if (!judged) continue;
    }
    if (!best || r.threshold < best.threshold) best = r;
  }
  return best ? { rule: best.name, threshold: best.threshold, warnFrom: Math.round(best.threshold * WARN_FROM * 10) / 10 } : null;
}

export function levelOf(v: number | null | undefined, limit: Limit | null): Level {
  if (typeof v !== 'number' || !limit) return 'none';
  return v >= limit.threshold ? 'alert' : v >= limit.warnFrom ? 'warn' : 'ok';
}

/** The tooltip: the rule and its lines, or why there are none. */
export function limitText(limit: Limit | null, rules: RuleView[] | null | undefined, metric: MeterMetric): string {
  if (limit) return `${limit.rule} fires at ${limit.threshold}%; warning from ${limit.warnFrom}%`;
  if (rules === undefined) return '';
  if (rules === null) return metric === 'cpu' ? 'the manager sends no rules: the agent\'s own --cpu-threshold applies' : 'the manager sends no rules';
  return `no ${metric} rule for this host`;
}


/** The disk rule line for one mount (the root is `/`, or a drive like `C:`). */
export function diskLimit(rules: RuleView[] | null | undefined, mount: string, type: string | null | undefined): Limit | null {
  return limitOf(rules, 'disk', { mount, type: type ?? null, root: mount === '/' || /^[A-Z]:\\?$/i.test(mount) });
}
