// The host page's "Top processes": the agent's processes now, asked again every 5 s while the page
// is in view (GET /api/agents/:agent/top, the CLI's `manager top`). Built from text nodes only:
// names and command lines come from the agent.
import { agentPath, api, ApiError } from '../api.ts';
import { h, replace } from '../dom.ts';
import { bytes, rate, time } from '../format.ts';
import type { ProcessRow, ProcessSort, TopProcesses } from '../../common/api/types.ts';

const REFRESH_MS = 5000;
const ROWS = 15;
const SORTS: [ProcessSort, string][] = [['cpu', 'CPU'], ['mem', 'Memory'], ['io', 'I/O']];

export function topProcesses(agentId: string): { el: HTMLElement; stop: () => void } {
  let sort: ProcessSort = 'cpu';
  let busy = false;
  const select = h('select', { id: 'top-sort', onchange: () => {
    sort = select.value as ProcessSort;
    void load();
  } }, SORTS.map(([v, label]) => h('option', { value: v }, label)));
  const note = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const box = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'Asking the agent…'));
  const el = h('div', { class: 'top-procs' }, h('p', { class: 'top-controls' }, h('label', { for: 'top-sort' }, 'Sort by '), select), box, note);

  async function load(): Promise<void> {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const r = await api<TopProcesses>(`${agentPath(agentId)}/top?sort=${sort}&n=${ROWS}`);
      replace(box, r.processes.length ? table(r) : h('p', { class: 'muted' }, 'The agent listed no processes.'));
      const why = Object.entries(r.unavailable ?? {}).map(([k, v]) => `${k}: ${v}`).join(' · ');
      replace(note, `${r.total} processes, at ${time(new Date(r.at).toISOString())}${why ? ` · ${why}` : ''}`);
    } catch (err) {
      const code = err instanceof ApiError ? ` (${err.code})` : '';
      replace(box, h('p', { class: 'muted' }, `Processes unavailable: ${(err as Error).message}${code}`));
      replace(note);
    } finally {
      busy = false;
    }
  }
  const timer = window.setInterval(() => void load(), REFRESH_MS);
  void load();
  return { el, stop: () => clearInterval(timer) };
}

const NUMERIC = new Set(['PID', 'CPU %', 'Memory', 'I/O']);

/** A viewer is sent no command lines (the note below says so): no column of dashes then. */
function table(r: TopProcesses): HTMLTableElement {
  const withCommand = r.processes.some((p) => p.command !== null);
  const cols = ['PID', 'User', 'Name', 'CPU %', 'Memory', 'I/O', 'State', 'Started', ...(withCommand ? ['Command'] : [])];
  return h('table', { 'data-table': 'top' }, h('caption', { class: 'sr-only' }, 'Top processes'),
    h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col', ...(NUMERIC.has(c) ? { class: 'num' } : {}) }, c)))),
    h('tbody', null, r.processes.map((p) => row(p, withCommand))));
}

function row(p: ProcessRow, withCommand: boolean): HTMLTableRowElement {
  return h('tr', null,
    h('td', { class: 'num' }, String(p.pid)), h('td', null, p.user ?? '-'), h('td', { class: 'host' }, p.name),
    h('td', { class: 'num' }, p.cpuPercent === null ? '-' : p.cpuPercent.toFixed(1)), h('td', { class: 'num' }, bytes(p.memBytes)),
    h('td', { class: 'num' }, rate(p.ioBytesPerSec)), h('td', null, p.state ?? '-'),
    h('td', null, p.startedAt === null ? '-' : time(new Date(p.startedAt).toISOString())),
    withCommand ? h('td', { class: 'cmd' }, p.command ?? '-') : null);
}
