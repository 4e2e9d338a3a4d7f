// The host page's containers table: asked from the agent when the page opens and on "Refresh
// containers" (each ask costs the engine a list and an inspect a container, so not on a timer).
// A host without an engine says which sockets the agent tried, never an empty table.

import { agentPath, api, ApiError } from '../api.ts';
import { h, replace } from '../dom.ts';
import { bytes, pct } from '../format.ts';
import type { ContainersResult } from '../../common/api/types.ts';

export function containersWidget(agentId: string): { el: HTMLElement; refresh: () => Promise<void> } {
  const box = h('div', { class: 'table-wrap', 'aria-live': 'polite' });
  const note = h('p', { class: 'muted small' });
  const io = (a: number | null, b: number | null) => (a === null ? '-' : `${bytes(a)} / ${bytes(b)}`);
  async function refresh(): Promise<void> {
    replace(note, 'Asking the agent...');
    try {
      const r = await api<ContainersResult>(`${agentPath(agentId)}/containers`);
      replace(box, r.containers.length ? h('table', { 'data-table': 'containers' }, h('caption', { class: 'sr-only' }, 'Containers'),
        h('thead', null, h('tr', null, ['Name', 'Image', 'State', 'Health', 'Restarts', 'CPU', 'Memory', 'Net in / out', 'Disk read / write', 'Status']
          .map((c, i) => h('th', { scope: 'col', ...(i >= 4 && i <= 8 ? { class: 'num' } : {}) }, c)))),
        h('tbody', null, r.containers.map((c) => h('tr', { 'data-state': c.state },
          h('td', null, c.name), h('td', null, c.image), h('td', { class: 'state' }, c.state), h('td', c.health ? { 'data-health': c.health } : null, c.health ?? '-'),
          h('td', { class: 'num' }, c.restartCount === null ? '-' : String(c.restartCount)), h('td', { class: 'num' }, pct(c.cpuPercent)),
          h('td', { class: 'num' }, c.memUsedBytes === null ? '-' : `${bytes(c.memUsedBytes)} of ${bytes(c.memLimitBytes)}`),
          h('td', { class: 'num' }, io(c.netRxBytes, c.netTxBytes)), h('td', { class: 'num' }, io(c.blockReadBytes, c.blockWriteBytes)),
          h('td', null, c.status)))))
        : h('p', { class: 'muted' }, 'The engine has no containers.'));
      replace(note, `Engine at ${r.engine.socket} (${r.engine.from}); ${r.total} container${r.total === 1 ? '' : 's'}`,
        r.notInspected ? `, ${r.notInspected} not inspected in this ask` : '', r.cpuWindowMs ? `; CPU over ${(r.cpuWindowMs / 1000).toFixed(1)} s` : '', '.');
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String((err as Error)?.message ?? err), 0);
      replace(box, h('p', { class: e.code === 'ENGINE_UNREACHABLE' || e.code === 'AGENT_TOO_OLD' ? 'muted' : 'error', role: 'status' }, h('code', null, e.code), ' ', e.message));
      replace(note);
    }
  }
  const el = h('div', null, h('button', { type: 'button', class: 'small', onclick: () => void refresh() }, 'Refresh containers'), note, box);
  return { el, refresh };
}
