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

/** Identifies one condition on one agent (the Alertmanager labels it is sent with are derived from it). */
export function conditionKey(alertname: string, agentId: string): string {
  return `${alertname}|${agentId}`;
}

/**
 * Which conditions fire right now, per agent, as the recorded alerts say. Rebuilt from the
 * manager's kept alerts at start, then fed each new one.
 */
export class FiringSet {
  private readonly firing = new Map<string, Set<string>>();

  constructor(history: Iterable<AlertRecord> = []) {
    for (const a of history) this.apply(a);
  }

  apply(a: AlertRecord): void {
    const m = meaningOf(a.type);
    if (m.oneShot) return;
    let set = this.firing.get(a.agentId);
    if (m.firing) {
      if (!set) this.firing.set(a.agentId, (set = new Set()));
      set.add(m.alertname);
    } else {
      set?.delete(m.alertname);
      if (set && !set.size) this.firing.delete(a.agentId);
    }
  }

  isFiring(agentId: string, alertname: string): boolean {
    return this.firing.get(agentId)?.has(alertname) ?? false;
  }

  namesFor(agentId: string): ReadonlySet<string> {
    return this.firing.get(agentId) ?? new Set();
  }
}
