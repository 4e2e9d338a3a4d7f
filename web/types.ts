// Helpers over the API's shapes (agents --json, alerts --json).

import type { Agent, Mount } from '../common/api/types.ts';
import { headlineMount } from '../common/rules/meter-limits.ts';

// The API's shapes are the manager's own (common/api/types.ts), not re-declared here.
export type { Agent, AgentLimits, Alert, CommandEvent, FleetLimits, Me, MeterLimit, Mount, RolloutStatus, Version } from '../common/api/types.ts';

/** The fullest mount (highest used %), or the root filesystem's headline value from an agent that sends no mounts. */
export function worstMount(a: Agent): { mount: string; percent: number } | null {
  let worst: Mount | undefined;
  for (const m of a.mounts ?? []) if (!worst || m.percent > worst.percent) worst = m;
  if (worst) return { mount: worst.mount, percent: worst.percent };
  const p = a.metrics?.diskPercent;
  return typeof p === 'number' ? { mount: headlineMount(a.platform), percent: p } : null;
}

export type AgentState = 'online' | 'offline' | 'pending' | 'restarting' | 'down';

export function stateOf(a: Agent): AgentState {
  if (a.trust === 'pending') return 'pending';
  if (a.restarting) return 'restarting';
  if (a.online) return 'online';
  return a.down ? 'down' : 'offline';
}
