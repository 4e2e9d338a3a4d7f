// How a recorded alert maps onto Alertmanager's model: a named condition (alertname) on one agent
// that starts firing and is later resolved. CPU_HIGH/CPU_NORMAL are `cpu_high`, AGENT_DOWN/AGENT_UP
// `agent_down`; a later rule `X` pairs with `X_NORMAL`, `X_OK` or `X_UP` the same way.

import type { AlertRecord } from '../manager/state.ts';

export interface AlertMeaning {
  alertname: string;
  /** true: the condition starts (or still holds); false: it ended */
  firing: boolean;
  severity: 'critical' | 'warning' | 'info';
  /** a rule with no resolving alert: it fires once and ends by itself */
  oneShot: boolean;
}

const KNOWN: Record<string, AlertMeaning> = {
  CPU_HIGH: { alertname: 'cpu_high', firing: true, severity: 'warning', oneShot: false },
  CPU_NORMAL: { alertname: 'cpu_high', firing: false, severity: 'warning', oneShot: false },
  AGENT_DOWN: { alertname: 'agent_down', firing: true, severity: 'critical', oneShot: false },
  AGENT_UP: { alertname: 'agent_down', firing: false, severity: 'critical', oneShot: false },
  TEST: { alertname: 'hostwatch_test', firing: true, severity: 'info', oneShot: true },
};

/** The alert names `hostwatch_alerts_firing` always reports (0 when nothing fires). */
export const ALERT_NAMES = ['cpu_high', 'agent_down'] as const;

const RESOLVING = /_(NORMAL|OK|UP|RESOLVED|CLEAR)$/;

export function meaningOf(type: string): AlertMeaning {
  const known = KNOWN[type];
  if (known) return known;
  const clean = type.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 100) || 'unknown';
  if (RESOLVING.test(type)) return { alertname: clean.replace(/_(normal|ok|up|resolved|clear)$/, '_high'), firing: false, severity: 'warning', oneShot: false };
  return { alertname: clean, firing: true, severity: 'warning', oneShot: true };
}

/**
 * What a recorded alert means: an alert from a rule says so itself (`rule`, `state`, `severity`);
 * older ones are read from their type.
 */
export function meaningOfAlert(a: Pick<AlertRecord, 'type' | 'rule' | 'state' | 'severity'>): AlertMeaning {
  if (!a.rule) return meaningOf(a.type);
  return { alertname: a.rule, firing: a.state !== 'resolved', severity: a.severity ?? (a.rule === 'agent_down' ? 'critical' : 'warning'), oneShot: false };
}

/** A per-mount or per-interface rule's series, as part of a condition's identity. */
export function seriesKey(labels: Record<string, string> | undefined): string {
  return labels ? Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',') : '';
}

/** Identifies one condition on one agent (the Alertmanager labels it is sent with are derived from it). */
export function conditionKey(alertname: string, agentId: string, labels?: Record<string, string>): string {
  const series = seriesKey(labels);
  return series ? `${alertname}|${agentId}|${series}` : `${alertname}|${agentId}`;
}

/**
 * Which conditions fire right now, per agent, as the recorded alerts say. Rebuilt from the
 * manager's kept alerts at start, then fed each new one.
 */
export class FiringSet {
  /** agent -> alertname -> the series firing (one '' for a rule without per:) */
  private readonly firing = new Map<string, Map<string, Set<string>>>();

  constructor(history: Iterable<AlertRecord> = []) {
    for (const a of history) this.apply(a);
  }

  apply(a: AlertRecord): void {
    const m = meaningOfAlert(a);
    if (m.oneShot) return;
    let names = this.firing.get(a.agentId);
    const series = seriesKey(a.labels);
    if (m.firing) {
      if (!names) this.firing.set(a.agentId, (names = new Map()));
      let set = names.get(m.alertname);
      if (!set) names.set(m.alertname, (set = new Set()));
      set.add(series);
    } else {
      const set = names?.get(m.alertname);
      set?.delete(series);
      if (set && !set.size) names!.delete(m.alertname);
      if (names && !names.size) this.firing.delete(a.agentId);
    }
  }

  /** Whether any series of the alert fires on the agent. */
  isFiring(agentId: string, alertname: string): boolean {
    return this.firing.get(agentId)?.has(alertname) ?? false;
  }

  namesFor(agentId: string): ReadonlySet<string> {
    return new Set(this.firing.get(agentId)?.keys() ?? []);
  }
}
