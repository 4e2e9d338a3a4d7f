// The containers in a report: a few fields each, at most REPORT_CONTAINERS_MAX (running ones and the
// busiest first), so a host with 2,000 containers sends a bounded report.

import type { ContainerRow } from './types.ts';

export const REPORT_CONTAINERS_MAX = 50;

export interface ContainerSample {
  name: string;
  image: string;
  state: string;
  health: string | null;
  restartCount: number | null;
  cpuPercent: number | null;
  memUsedBytes: number | null;
}

export function toContainerSamples(rows: ContainerRow[]): ContainerSample[] {
  const rank = (r: ContainerRow) => (r.state === 'running' ? 1e9 : 0) + (r.cpuPercent ?? 0);
  return [...rows].sort((a, b) => rank(b) - rank(a)).slice(0, REPORT_CONTAINERS_MAX).map((r) => ({
    name: r.name.slice(0, 128), image: r.image.slice(0, 200), state: r.state.slice(0, 20), health: r.health,
    restartCount: r.restartCount, cpuPercent: r.cpuPercent, memUsedBytes: r.memUsedBytes,
  }));
}
