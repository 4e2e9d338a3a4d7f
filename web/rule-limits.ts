// The rule lines a meter is judged against, as the manager works them out for each host (GET
// /api/limits): a warning band from WARN_FROM of the line, the alert at and above it. No DOM here.

import type { MeterMetric } from '../common/rules/meter-limits.ts';
import type { AgentLimits, MeterLimit } from './types.ts';

export type { MeterMetric };

/** The warning band starts at this share of the threshold (80% of an 80% threshold: 64%). */
const WARN_FROM = 0.8;

export type Level = 'ok' | 'warn' | 'alert' | 'none';

export interface Limit extends MeterLimit {
  warnFrom: number;
}

/** A rule's line with its warning band; null without one. */
export function limitOf(line: MeterLimit | null | undefined): Limit | null {
  return line ? { rule: line.rule, threshold: line.threshold, warnFrom: Math.round(line.threshold * WARN_FROM * 10) / 10 } : null;
}

export function levelOf(v: number | null | undefined, limit: Limit | null): Level {
  if (typeof v !== 'number' || !limit) return 'none';
  return v >= limit.threshold ? 'alert' : v >= limit.warnFrom ? 'warn' : 'ok';
}

/** The tooltip: the rule and its lines, or why there are none (`set`: the host's lines, null: no rules, undefined: not loaded). */
export function limitText(limit: Limit | null, set: AgentLimits | null | undefined, metric: MeterMetric): string {
  if (limit) return `${limit.rule} fires at ${limit.threshold}%; warning from ${limit.warnFrom}%`;
  if (set === undefined) return '';
  if (set === null) return metric === 'cpu' ? 'the manager sends no rules: the agent\'s own --cpu-threshold applies' : 'the manager sends no rules';
  return `no ${metric} rule for this host`;
}
