// An alert row's Value and Threshold cells. A container or service rule's value is 1 (runs) or 0
// (does not), so "0" against "1" means nothing to a reader: those say the state in words, with no
// threshold. A process rule's value is how many run (against the fewest wanted), as it reads.

import type { Alert } from './types.ts';

export function alertValue(a: Pick<Alert, 'type' | 'value' | 'threshold' | 'state' | 'labels'>): { value: string; threshold: string } {
  const l = a.labels ?? {};
  if (l.container !== undefined) {
    // a resolution with 0 is the agent's "gone from the list": the container was removed
    return { value: a.state === 'resolved' ? (a.value === 0 ? 'removed' : 'running') : 'down', threshold: '-' };
  }
  if (l.service !== undefined) return { value: a.state === 'resolved' ? 'running' : 'not running', threshold: '-' };
  const v = (x: number | undefined) => (typeof x === 'number' ? (a.type.startsWith('CPU') ? `${x.toFixed(1)}%` : String(x)) : '-');
  return { value: a.type === 'AGENT_DOWN' ? `silent ${a.value} s` : v(a.value), threshold: v(a.threshold) };
}
