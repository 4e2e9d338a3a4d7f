// What a rule is, once read from the config file and resolved for one agent: the form the manager
// sends to the agent (the `rules` message) and the agent's evaluator runs. Durations in seconds,
// sizes in bytes, rates in bytes per second, percentages as 0-100.

import { parseCount, parsePercent, parseSize, type Parsed } from '../util/units.ts';

/** CPU_NORMAL needs usage below threshold minus this many points, so 79-81% does not flap. */
export const CPU_HYSTERESIS = 5;
/** Default distance of a rule's `clear` from its threshold for rates and counts (percentages: CPU_HYSTERESIS points). */
const RULE_CLEAR_FRACTION = 0.05;

export const METRICS = ['cpu', 'memory', 'swap', 'disk', 'net_rx_rate', 'net_tx_rate', 'processes', 'service', 'process', 'container'] as const;
export type Metric = (typeof METRICS)[number];

export const RULE_NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;

export interface Rule {
  name: string;
  metric: Metric;
  /** fires when the value is above (or below) threshold */
  op: 'above' | 'below';
  threshold: number;
  /** a second, higher severity past this value */
  critical?: number;
  /** the value it must come back past to resolve */
  clear: number;
  /** how long every sample must be past the threshold, seconds */
  for: number;
  /** how long every sample must be back past `clear`, seconds */
  clearFor: number;
  /** re-notify a still-firing alert this often, seconds */
  repeat?: number;
  /** fire and resolve separately for each mount (disk) or interface (net) */
  per?: 'mount' | 'interface';
  /** with per: mount, file system types left out */
  excludeFstypes?: string[];
  /** with per: only these mounts or interfaces (globs) */
  only?: string[];
  /** metric service: the services judged (globs on the unit or Windows service name); metric process: globs on the process name */
  match?: string[];
  /** metric process: globs on the command line (arguments joined by spaces), instead of match */
  matchCmdline?: string[];
}

/** Rules an agent runs, as the manager sent them; `version` names this exact set. */
export interface RuleSetForAgent {
  version: string;
  rules: Rule[];
}

export const DEFAULT_EXCLUDE_FSTYPES = ['tmpfs', 'devtmpfs', 'overlay', 'squashfs'];

export function isPercentMetric(m: Metric): boolean {
  return m === 'cpu' || m === 'memory' || m === 'swap' || m === 'disk';
}

/** The parser for a threshold of this metric. */
export function valueParser(m: Metric): (v: unknown) => Parsed {
  if (isPercentMetric(m)) return parsePercent;
  if (m === 'processes' || m === 'process' || m === 'service' || m === 'container') return parseCount;
  return parseSize;
}

/** A few points inside the threshold (percentages) or a few percent of it (rates, counts). */
export function defaultClear(metric: Metric, op: Rule['op'], threshold: number): number {
  // A count of processes is whole: back at the threshold is back (below 1 resolves at 1).
  if (metric === 'process') return op === 'below' ? threshold - 1 : threshold + 1;
  const gap = isPercentMetric(metric) ? CPU_HYSTERESIS : threshold * RULE_CLEAR_FRACTION;
  const v = op === 'above' ? Math.max(0, threshold - gap) : threshold + gap;
  return Math.round(v * 1000) / 1000;
}

/** The alert type: the historical names for the CPU rule, else the name in capitals. */
export function alertType(rule: string, state: 'firing' | 'resolved'): string {
  if (rule === 'cpu_high') return state === 'firing' ? 'CPU_HIGH' : 'CPU_NORMAL';
  if (rule === 'agent_down') return state === 'firing' ? 'AGENT_DOWN' : 'AGENT_UP';
  return state === 'firing' ? rule.toUpperCase() : `${rule.toUpperCase()}_RESOLVED`;
}

/** The rule and state an alert type names, for alerts from agents that send no `rule` field. */
export function ruleOfType(type: string): { rule: string; state: 'firing' | 'resolved' } {
  if (type === 'CPU_HIGH' || type === 'CPU_NORMAL') return { rule: 'cpu_high', state: type === 'CPU_HIGH' ? 'firing' : 'resolved' };
  if (type === 'AGENT_DOWN' || type === 'AGENT_UP') return { rule: 'agent_down', state: type === 'AGENT_DOWN' ? 'firing' : 'resolved' };
  const resolved = type.endsWith('_RESOLVED');
  return { rule: (resolved ? type.slice(0, -'_RESOLVED'.length) : type).toLowerCase(), state: resolved ? 'resolved' : 'firing' };
}

/** The rule the agent's --cpu-threshold/--cpu-for flags make, run when its manager sets none. */
export function cpuRuleFromFlags(threshold: number, forS: number): Rule {
  return { name: 'cpu_high', metric: 'cpu', op: 'above', threshold, clear: threshold - CPU_HYSTERESIS, for: forS, clearFor: forS };
}

/**
 * A `metric: service` rule: each matched service is 1 while it runs and 0 while it does not, so
 * the rule fires below 1 and resolves back above 0, with the usual `for`, `clear_for` and `repeat`.
 */
export function serviceRule(name: string, match: string[], forS: number): Rule {
  return { name, metric: 'service', op: 'below', threshold: 1, clear: 0, for: forS, clearFor: forS, match };
}

/**
 * A `metric: process` rule: the number of processes whose name (or command line) matches is the
 * value; it fires while fewer than `below` run and resolves when at least `below` run again.
 */
export function processRule(name: string, by: { match: string[] } | { matchCmdline: string[] }, below: number, forS: number): Rule {
  return { name, metric: 'process', op: 'below', threshold: below, clear: below - 1, for: forS, clearFor: forS, ...by };
}

/**
 * A `metric: container` rule: each container (those `only` keeps) is 1 while it runs, is not
 * unhealthy and did not restart since the previous list, else 0; one series per container.
 */
export function containerRule(name: string, only: string[] | undefined, forS: number): Rule {
  return { name, metric: 'container', op: 'below', threshold: 1, clear: 0, for: forS, clearFor: forS, ...(only ? { only } : {}) };
}
