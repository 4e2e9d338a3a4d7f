// Prometheus HTTP service discovery: one target group per accepted agent, all pointing at this
// listener, with `__param_agent` so each scrape asks for that agent alone (one `up` per host, and
// hosts can be sharded across Prometheus servers with hashmod on `agent_id`).

import type { ManagerState } from '../manager/state.ts';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** `hostPort` is how the caller reached this listener (its Host header), so it can reach it again. */
export function sdTargets(state: ManagerState, hostPort: string): TargetGroup[] {
  return state.agents().map((a) => ({
    targets: [hostPort],
    labels: { __metrics_path__: '/metrics', __param_agent: a.id, agent: a.name, agent_id: a.id },
  }));
}
