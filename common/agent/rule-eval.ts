// Judges the agent's rules on its own samples, so that an alert is raised even while the manager
// is unreachable. A rule fires when every sample for its `for` is past the threshold, and resolves
// when every sample for its `clear_for` is back past `clear` (a few points inside the threshold by
// default), so a value hovering at the line does not flap. A rule with `per:` keeps one series per
// mount or interface. Counting samples, not reading a clock, keeps it exact on a loaded machine.
// A container rule keeps one series per container; a restart is an event, not a state: it fires at
// once (no `for`), and a container gone from the list resolves what it had firing.

import { MAX_RULE_SERIES } from '../wire/constants.ts';
import { globMatch, isGlob } from '../rules/selector.ts';
import type { Metric, Rule } from '../rules/rule.ts';

/** One round of measurements; a metric absent here is not judged this round, null is a gap. */
export interface RuleInputs {
  at: number;
  cpu?: number | null;
  memory?: number | null;
  swap?: number | null;
  processes?: number | null;
  /** the root file system, for a disk rule without per: mount */
  disk?: number | null;
  mounts?: { mount: string; type: string; percent: number | null }[];
  netRx?: number | null;
  netTx?: number | null;
  interfaces?: { name: string; rxRate: number | null; txRate: number | null }[];
  /** the host's services, for metric: service (read only when such a rule exists) */
  services?: { name: string; running: boolean }[];
  /** metric process: by rule name, how many processes match its globs (null: cannot be told here) */
  processMatches?: Record<string, number | null>;
  /** metric container: every container listed (read only when such a rule exists) */
  containers?: ContainerInput[];
}

export interface ContainerInput {
  name: string;
  /** the engine's state: running, exited, restarting... */
  state: string;
  /** healthy, unhealthy, starting, or null (no healthcheck) */
  health: string | null;
  /** its restart count or start time changed since the previous list */
  restarted: boolean;
}

/** A label value fits the alert's limit (MAX_LABEL_VALUE): a long list of globs is cut. */
const LABEL_MAX = 255;

export interface RuleDecision {
  rule: string;
  state: 'firing' | 'resolved';
  severity: 'warning' | 'critical';
  /** mean of the samples that decided it */
  value: number;
  threshold: number;
  labels: Record<string, string>;
  at: number;
  /** a still-firing alert sent again (`repeat`), or raised to critical */
  again?: 'repeat' | 'critical';
  /** resolved because its series is gone (a container removed), not because it came back */
  gone?: true;
}

interface Series {
  labels: Record<string, string>;
  /** the latest samples, at most the longer of the two windows */
  window: number[];
  firing: boolean;
  severity: 'warning' | 'critical';
  lastSent: number;
}

interface RuleState {
  rule: Rule;
  series: Map<string, Series>;
}

export class RuleEvaluator {
  private readonly states = new Map<string, RuleState>();
  private readonly intervalMs: (m: Metric) => number;

  /** `intervalMs`: how often samples of a metric come (CPU every second, the rest every report). */
  constructor(o: { intervalMs: (m: Metric) => number; rules?: Rule[] }) {
    this.intervalMs = o.intervalMs;
    if (o.rules) this.setRules(o.rules, 0);
  }

  get rules(): Rule[] {
    return [...this.states.values()].map((s) => s.rule);
  }

  /** Which metrics the rules read (the agent measures disks and swap only when asked for). */
  needs(m: Metric): boolean {
    for (const s of this.states.values()) if (s.rule.metric === m) return true;
    return false;
  }

  /**
   * Replaces the rules. A rule kept by name keeps what is firing (judged from now on against its
   * new thresholds); a rule gone resolves what it had firing, so nothing stays firing forever.
   */
  setRules(rules: Rule[], at: number): RuleDecision[] {
    const out: RuleDecision[] = [];
    const next = new Map<string, RuleState>();
    for (const rule of rules) {
      const old = this.states.get(rule.name);
      if (old && old.rule.metric === rule.metric && old.rule.per === rule.per) {
        const same = JSON.stringify(old.rule) === JSON.stringify(rule);
        if (!same) for (const s of old.series.values()) s.window.length = 0;
        next.set(rule.name, { rule, series: old.series });
      } else {
        if (old) out.push(...this.resolveAll(old, at));
        next.set(rule.name, { rule, series: new Map() });
      }
    }
    for (const [name, old] of this.states) if (!next.has(name)) out.push(...this.resolveAll(old, at));
    this.states.clear();
    for (const [k, v] of next) this.states.set(k, v);
    return out;
  }

  /** What is firing now, rule by rule. */
  firing(): { rule: string; labels: Record<string, string>; severity: string }[] {
    const out: { rule: string; labels: Record<string, string>; severity: string }[] = [];
    for (const st of this.states.values()) for (const s of st.series.values()) if (s.firing) out.push({ rule: st.rule.name, labels: s.labels, severity: s.severity });
    return out;
  }

  push(inputs: RuleInputs): RuleDecision[] {
    const out: RuleDecision[] = [];
    for (const st of this.states.values()) {
      const seen = new Set<string>();
      for (const [key, labels, value, event] of values(st.rule, inputs)) {
        seen.add(key);
        let s = st.series.get(key);
        if (!s) {
          if (st.series.size >= MAX_RULE_SERIES) continue;
          st.series.set(key, (s = { labels, window: [], firing: false, severity: 'warning', lastSent: 0 }));
        }
        const d = this.judge(st.rule, s, value, inputs.at, event);
        if (d) out.push(d);
      }
      // A container no longer listed (removed): what it had firing resolves, and its series goes.
      if (st.rule.metric === 'container' && inputs.containers) {
        for (const [key, s] of st.series) {
          if (seen.has(key)) continue;
          st.series.delete(key);
          if (s.firing) out.push({ rule: st.rule.name, state: 'resolved', severity: s.severity, value: 0, threshold: st.rule.threshold, labels: s.labels, at: inputs.at, gone: true });
        }
      }
    }
    return out;
  }

  private samples(rule: Rule, seconds: number): number {
    return Math.max(1, Math.round((seconds * 1000) / this.intervalMs(rule.metric)));
  }

  /** `event`: this sample is an event (a restart) that fires at once, without waiting `for`. */
  private judge(rule: Rule, s: Series, value: number | null, at: number, event = false): RuleDecision | undefined {
    if (value === null) {
      s.window.length = 0; // a gap: start counting again rather than guess
      return undefined;
    }
    const nFire = this.samples(rule, rule.for);
    const nClear = this.samples(rule, rule.clearFor);
    s.window.push(value);
    const keep = Math.max(nFire, nClear);
    if (s.window.length > keep) s.window.splice(0, s.window.length - keep);
    const past = (v: number, line: number) => (rule.op === 'above' ? v > line : v < line);
    const last = (n: number) => (s.window.length >= n ? s.window.slice(-n) : undefined);
    const mean = (w: number[]) => Math.round((w.reduce((a, b) => a + b, 0) / w.length) * 10) / 10;
    const decision = (state: RuleDecision['state'], w: number[], again?: RuleDecision['again']): RuleDecision => {
      s.lastSent = at;
      return {
        rule: rule.name, state, severity: s.severity, value: mean(w), threshold: s.severity === 'critical' ? rule.critical! : rule.threshold,
        labels: s.labels, at, ...(again ? { again } : {}),
      };
    };
    if (!s.firing) {
      const w = event ? [value] : last(nFire);
      if (!w || !w.every((v) => past(v, rule.threshold))) return undefined;
      s.firing = true;
      s.severity = rule.critical !== undefined && w.every((v) => past(v, rule.critical!)) ? 'critical' : 'warning';
      return decision('firing', w);
    }
    const wc = last(nClear);
    if (wc && wc.every((v) => (rule.op === 'above' ? v < rule.clear : v > rule.clear))) {
      s.firing = false;
      const d = decision('resolved', wc);
      s.severity = 'warning';
      return d;
    }
    const wf = last(nFire);
    if (s.severity === 'warning' && rule.critical !== undefined && wf && wf.every((v) => past(v, rule.critical!))) {
      s.severity = 'critical';
      return decision('firing', wf, 'critical');
    }
    if (rule.repeat && at - s.lastSent >= rule.repeat * 1000) return decision('firing', s.window.slice(-nFire), 'repeat');
    return undefined;
  }

  private resolveAll(st: RuleState, at: number): RuleDecision[] {
    const out: RuleDecision[] = [];
    for (const s of st.series.values()) {
      if (!s.firing) continue;
      s.firing = false;
      const value = s.window.length ? s.window[s.window.length - 1]! : st.rule.threshold;
      out.push({ rule: st.rule.name, state: 'resolved', severity: s.severity, value, threshold: st.rule.threshold, labels: s.labels, at });
    }
    return out;
  }
}

/** The series a rule judges in this round: [key, labels, value, an event that fires at once]. */
function values(rule: Rule, i: RuleInputs): [string, Record<string, string>, number | null, boolean?][] {
  const pick = (v: number | null | undefined): [string, Record<string, string>, number | null][] => (v === undefined ? [] : [['', {}, v]]);
  const only = (name: string) => !rule.only || rule.only.some((g) => globMatch(g, name));
  switch (rule.metric) {
    case 'cpu': return pick(i.cpu);
    case 'memory': return pick(i.memory);
    case 'swap': return pick(i.swap);
    case 'processes': return pick(i.processes);
    case 'disk':
      if (rule.per !== 'mount') return pick(i.disk);
      return (i.mounts ?? [])
        .filter((m) => !rule.excludeFstypes?.includes(m.type) && only(m.mount))
        .map((m) => [m.mount, { mount: m.mount }, m.percent]);
    case 'net_rx_rate':
    case 'net_tx_rate': {
      const rx = rule.metric === 'net_rx_rate';
      if (rule.per !== 'interface') return pick(rx ? i.netRx : i.netTx);
      return (i.interfaces ?? []).filter((n) => only(n.name)).map((n) => [n.name, { interface: n.name }, rx ? n.rxRate : n.txRate]);
    }
    case 'service':
      return i.services ? serviceValues(rule.match ?? [], i.services) : [];
    case 'process': {
      const n = i.processMatches?.[rule.name];
      if (n === undefined) return [];
      const label = (rule.matchCmdline ?? rule.match ?? []).join(', ').slice(0, LABEL_MAX);
      return [['', rule.matchCmdline ? { cmdline: label } : { match: label }, n]];
    }
    case 'container':
      return (i.containers ?? []).filter((c) => only(c.name)).map((c) => [c.name, { container: c.name }, containerOk(c) ? 1 : 0, c.restarted]);
  }
}

/** Runs, is not unhealthy (starting counts as well) and did not restart since the previous list. */
export function containerOk(c: ContainerInput): boolean {
  return c.state === 'running' && c.health !== 'unhealthy' && !c.restarted;
}

/**
 * 1 for each matched service that runs, 0 for one that does not. A name without a glob that the
 * host does not list at all (not installed, or removed) is 0 too: it does not run.
 */
function serviceValues(match: string[], services: { name: string; running: boolean }[]): [string, Record<string, string>, number][] {
  const out: [string, Record<string, string>, number][] = [];
  for (const s of services) if (match.some((g) => globMatch(g, s.name))) out.push([s.name, { service: s.name }, s.running ? 1 : 0]);
  for (const g of match) if (!isGlob(g) && !services.some((s) => s.name === g)) out.push([g, { service: g }, 0]);
  return out;
}
