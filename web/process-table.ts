// The host page's "who was it": a click on the CPU or memory chart opens the top processes of that
// minute (GET /api/agents/:agent/processes?at=) below the charts, by CPU and by memory, with a
// heading naming the minute and a button to close it. Text only (command lines came from the agent).

import { agentPath, api, ApiError } from './api.ts';
import { h, replace } from './dom.ts';
import { bytes, pct, time } from './format.ts';
import type { ProcessHistory, ProcessHistoryRow } from '../common/api/types.ts';

export interface ProcessPanel {
  el: HTMLElement;
  /** Opens the minute nearest `atMs` (and says so while it loads). */
  show(atMs: number): void;
  close(): void;
}

export function processPanel(agentId: string): ProcessPanel {
  const box = h('section', { class: 'procs-at', 'aria-labelledby': 'procs-at-title', hidden: true, 'data-panel': 'processes' });
  let seq = 0;

  const close = () => {
    seq++;
    box.hidden = true;
    replace(box);
  };

  const frame = (heading: string, ...body: Node[]) => {
    const title = h('h3', { id: 'procs-at-title', tabindex: '-1' }, heading);
    replace(box, h('div', { class: 'procs-head' }, title, h('button', { type: 'button', class: 'plain', onclick: () => close() }, 'Close process table')), ...body);
    box.hidden = false;
    return title;
  };

  const show = (atMs: number) => {
    const mine = ++seq;
    frame(`Processes near ${time(new Date(atMs).toISOString())}`, h('p', { class: 'muted small', role: 'status' }, 'Loading...')).focus();
    void api<ProcessHistory>(`${agentPath(agentId)}/processes?at=${Math.round(atMs)}`).then((p) => {
      if (mine !== seq) return;
      const m = p.minutes[0];
      if (!m) {
        frame(`No processes kept near ${time(new Date(atMs).toISOString())}`,
          h('p', { class: 'muted' }, 'The agent keeps its top processes once a minute (--processes-every); none were kept within 15 minutes of that time.')).focus();
        return;
      }
      frame(`Processes at ${time(new Date(m.at).toISOString())}`,
        h('p', { class: 'muted small' }, `The minute kept nearest ${time(new Date(atMs).toISOString())}.${p.commands ? '' : ' Command lines are shown to admins only.'}`),
        h('div', { class: 'procs-tables' }, table('By CPU', m.byCpu, p.commands), table('By memory', m.byMem, p.commands))).focus();
    }).catch((err: unknown) => {
      if (mine !== seq) return;
      const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String(err), 0);
      frame('Processes', h('p', { class: 'error', role: 'alert' }, `Cannot load the processes: ${e.message} [${e.code}]`)).focus();
    });
  };

  // The same without a pointer: a time of day (the last one that has passed) and a button.
  const input = h('input', { type: 'time', id: 'procs-at-time', required: true });
  const form = h('form', {
    class: 'procs-pick',
    onsubmit: ((e: Event) => {
      e.preventDefault();
      const [hh, mm] = input.value.split(':').map(Number);
      if (hh === undefined || mm === undefined || Number.isNaN(hh) || Number.isNaN(mm)) return;
      const d = new Date();
      d.setHours(hh, mm, 0, 0);
      if (d.getTime() > Date.now()) d.setDate(d.getDate() - 1);
      show(d.getTime());
    }) as EventListener,
  }, h('label', { for: 'procs-at-time' }, 'Processes at'), input, h('button', { type: 'submit', class: 'plain' }, 'Show that minute'));
  return { el: h('div', null, form, box), show, close };
}

function table(caption: string, rows: ProcessHistoryRow[], commands: boolean): HTMLElement {
  // The name first, its command line beneath it: on a phone the name, CPU and memory are in view
  // and a long command line wraps inside its row instead of widening the table.
  const cols = [commands ? 'Name and command' : 'Name', 'CPU', 'Memory', 'PID', 'User'];
  return h('div', { class: 'table-wrap' }, h('table', { class: 'procs' },
    h('caption', null, caption),
    h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', ...(i > 0 && i < 4 ? { class: 'num' } : {}) }, c)))),
    h('tbody', null, rows.length ? rows.map((r) => h('tr', null,
      h('th', { scope: 'row' }, h('span', { class: 'name' }, r.name), commands && r.command ? h('span', { class: 'cmd' }, r.command) : null),
      h('td', { class: 'num' }, pct(r.cpuPercent)), h('td', { class: 'num' }, bytes(r.memBytes)),
      h('td', { class: 'num' }, String(r.pid)), h('td', null, r.user ?? '-'))) : h('tr', null, h('td', { colspan: cols.length }, 'None')))));
}
