// The host page's container history: CPU and memory of the busiest few containers (and `other`,
// the rest summed), or one container's CPU, memory with its limit, network and disk I/O, picked
// in a selector. Read from the same API as `manager history --containers`; an agent that sends
// none says "not reported", never an empty chart that reads as zero.

import type uPlot from 'uplot';
import type { ContainerHistory } from '../common/api/types.ts';
import { agentPath, api, ApiError } from './api.ts';
import { chartColumns, makeChart, type ChartSpec } from './charts.ts';
import { h, replace } from './dom.ts';
import { FIELDS, type Band, type Field, type HistoryData } from './history.ts';

/** Containers drawn together on the CPU and memory charts; more are one pick away. */
const SHOWN = 5;
const COLORS = ['--c1', '--c2', '--c3', '--c4', '--c6'];
const DASH = [6, 4];
const BUSIEST = '';

export interface ContainerCharts {
  el: HTMLElement;
  load(fromMs: number, toMs: number): Promise<void>;
  draw(): void;
  resize(width: number): void;
  destroy(): void;
}

export function containerCharts(agentId: string, width: () => number): ContainerCharts {
  const select = h('select', { id: 'container-pick', onchange: () => draw() }) as HTMLSelectElement;
  const note = h('p', { class: 'muted small', 'aria-live': 'polite', 'data-note': 'container-history' });
  const box = h('div', { class: 'charts' });
  const picker = h('p', null, h('label', { for: 'container-pick' }, 'Chart container '), select);
  const el = h('div', null, picker, note, box);
  let charts: uPlot[] = [];
  let last: ContainerHistory | undefined;
  let seq = 0;

  function destroy(): void {
    for (const c of charts) c.destroy();
    charts = [];
  }

  function fillSelect(r: ContainerHistory): void {
    const keep = select.value;
    replace(select, h('option', { value: BUSIEST }, `Busiest ${Math.min(SHOWN, r.containers.length)}`), ...r.containers.map((c) => h('option', { value: c.name }, c.name)));
    select.value = r.containers.some((c) => c.name === keep) ? keep : BUSIEST;
    // Nothing to pick between when nothing was reported (the note says why).
    picker.hidden = !r.containers.length;
  }

  function draw(): void {
    destroy();
    replace(box);
    const r = last;
    if (!r || !r.reported) return;
    const pick = r.containers.find((c) => c.name === select.value);
    const detail: Record<string, Band> = {};
    const specs: ChartSpec[] = [];
    if (pick) {
      // Keyed apart from the host's own fields (cpuPercent, netRxRate...), which charts look up first.
      for (const k of ['cpuPercent', 'memUsedBytes', 'memLimitBytes', 'netRxRate', 'netTxRate', 'blockReadRate', 'blockWriteRate'] as const) detail[`one:${k}`] = { avg: pick[k] };
      specs.push(
        { title: `CPU: ${pick.name}`, unit: 'pct', fit: true, series: [{ label: pick.name, field: 'one:cpuPercent', color: '--c1' }] },
        { title: `Memory: ${pick.name}`, unit: 'bytes', series: [{ label: 'used', field: 'one:memUsedBytes', color: '--c2' }, ...(pick.memLimitBytes.some((v) => v !== null) ? [{ label: 'limit', field: 'one:memLimitBytes', color: '--c5', dash: DASH }] : [])] },
        { title: `Network: ${pick.name}`, unit: 'rate', series: [{ label: 'in', field: 'one:netRxRate', color: '--c4' }, { label: 'out', field: 'one:netTxRate', color: '--c5', dash: DASH }] },
        { title: `Disk I/O: ${pick.name}`, unit: 'rate', series: [{ label: 'read', field: 'one:blockReadRate', color: '--c3' }, { label: 'write', field: 'one:blockWriteRate', color: '--c6', dash: DASH }] },
      );
    } else {
      const shown = r.containers.slice(0, SHOWN);
      const other = r.other && r.other.count.some((n) => n > 0) ? r.other : null;
      shown.forEach((c, i) => {
        detail[`cpu:${i}`] = { avg: c.cpuPercent };
        detail[`mem:${i}`] = { avg: c.memUsedBytes };
      });
      if (other) {
        detail['cpu:other'] = { avg: other.cpuPercent };
        detail['mem:other'] = { avg: other.memUsedBytes };
      }
      const series = (kind: string) => [
        ...shown.map((c, i) => ({ label: c.name, field: `${kind}:${i}`, color: COLORS[i % COLORS.length]! })),
        ...(other ? [{ label: `other (${other.count[other.count.length - 1]})`, field: `${kind}:other`, color: '--c5', dash: DASH }] : []),
      ];
      specs.push({ title: 'Container CPU', unit: 'pct', fit: true, series: series('cpu') }, { title: 'Container memory', unit: 'bytes', series: series('mem') });
    }
    const data: HistoryData = {
      t: r.times.map((t) => t / 1000), fields: Object.fromEntries(FIELDS.map((f) => [f, { avg: [] }])) as unknown as Record<Field, Band>,
      detail, mounts: [], interfaces: [],
    };
    const w = width();
    for (const spec of specs) {
      const fig = h('figure', { class: 'chart', 'data-chart': spec.title, 'data-points': chartColumns(spec, data).reduce((n, c) => n + c.filter((v) => v !== null).length, 0) });
      box.appendChild(fig);
      charts.push(makeChart(fig, spec, data, w));
    }
  }

  async function load(fromMs: number, toMs: number): Promise<void> {
    const mine = ++seq;
    replace(note, 'Loading...');
    try {
      const r = await api<ContainerHistory>(`${agentPath(agentId)}/containers/history?since=${Math.floor(fromMs)}&to=${Math.ceil(toMs)}`);
      if (mine !== seq) return;
      last = r;
      fillSelect(r);
      select.disabled = !r.reported;
      const n = r.total[r.total.length - 1];
      replace(note, !r.reported
        ? 'Containers not reported by this agent in this range (an older agent, no container engine it can reach, or --containers-every 0).'
        : `${r.times.length} ${r.stepMs ? `point${r.times.length === 1 ? '' : 's'}, each the mean of ${r.stepMs / 60_000} minutes (the state seen worst)` : r.times.length === 1 ? 'record' : 'records'}${r.truncated ? ' (the newest of this range)' : ''}; ${n} container${n === 1 ? '' : 's'} at the last`
          + `${r.moreContainers ? `; ${r.moreContainers} more not listed` : ''}. Each record names the busiest; the rest are summed as "other".`);
      draw();
    } catch (err) {
      if (mine !== seq) return;
      const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String((err as Error)?.message ?? err), 0);
      last = undefined;
      draw();
      replace(note, h('span', { class: 'error', role: 'status' }, h('code', null, e.code), ' ', e.message));
    }
  }

  return { el, load, draw, resize: (w) => { for (const c of charts) c.setSize({ width: w, height: 180 }); }, destroy };
}
