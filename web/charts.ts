// The host page's charts with uPlot: one chart per metric, a cursor synced across them, drag to
// zoom (double-click to reset), a min/max band where the data has one.

import uPlot from 'uplot';
import { bytes } from './format.ts';
import type { Band, HistoryData } from './history.ts';
import { cssVar } from './theme.ts';
import { xRange } from './x-range.ts';

export interface ChartSpec {
  title: string;
  unit: 'pct' | 'rate' | 'count' | 'bytes';
  /** the y scale from 0 to above the highest value, for pct too (a container's CPU passes 100 on several cores) */
  fit?: boolean;
  /** dash: a dashed line, so a series drawn on top of another (out over an equal in) leaves it visible */
  series: { label: string; field: string; color: string; dash?: number[] }[];
  /** draw a line across missing points (live interface rates arrive with every other report) */
  spanGaps?: boolean;
}

const fmt = (unit: ChartSpec['unit'], v: number | null) =>
  v === null || v === undefined ? '-' : unit === 'pct' ? `${v.toFixed(1)}%` : unit === 'rate' ? `${bytes(v)}/s` : unit === 'bytes' ? bytes(v) : v.toFixed(0);

/**
 * The x axis's tick steps, in seconds: whole seconds and up (uPlot's own list goes down to 1 ms, so a
 * live chart of a few seconds was labelled every 200 ms, ":21.400 :21.600 ..."). Samples are whole seconds apart.
 */
const M = 60, H = 3600, D = 86400;
const TIME_INCRS_S = [1, 2, 5, 10, 15, 30, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 2 * H, 3 * H, 4 * H, 6 * H, 8 * H, 12 * H, D, 2 * D, 3 * D, 7 * D, 14 * D, 30 * D, 60 * D, 91 * D, 182 * D, 365 * D];

/** The columns a chart draws, in its series' order (for setData on a live update). */
export function chartColumns(spec: ChartSpec, data: HistoryData): (number | null)[][] {
  const cols: (number | null)[][] = [];
  for (const s of spec.series) {
    const b = (data.fields as Record<string, Band>)[s.field] ?? data.detail[s.field] ?? { avg: data.t.map(() => null) };
    cols.push(b.avg);
    if (b.min && b.max) cols.push(b.max, b.min);
  }
  return cols;
}

/**
 * `onPick`: a click on the chart (not the end of a drag to zoom) names the time under the cursor,
 * in ms; the chart then says so to the pointer (cursor) and to screen readers (its label).
 */
export function makeChart(el: HTMLElement, spec: ChartSpec, data: HistoryData, width: number, onPick?: (atMs: number) => void): uPlot {
  const grid = cssVar('--grid');
  const text = cssVar('--muted');
  const series: uPlot.Series[] = [{ label: 'time' }];
  const columns: (number | null)[][] = [];
  const bands: uPlot.Band[] = [];
  for (const s of spec.series) {
    const b = (data.fields as Record<string, Band>)[s.field] ?? data.detail[s.field] ?? { avg: data.t.map(() => null) };
    columns.push(b.avg);
    series.push({ label: s.label, stroke: cssVar(s.color), width: 1.5, value: (_u, v) => fmt(spec.unit, v), spanGaps: !!spec.spanGaps, ...(s.dash ? { dash: s.dash } : {}) });
    if (b.min && b.max) {
      const maxIdx = series.length;
      columns.push(b.max);
      series.push({ label: `${s.label} max`, stroke: 'transparent', points: { show: false }, value: (_u, v) => fmt(spec.unit, v) });
      columns.push(b.min);
      series.push({ label: `${s.label} min`, stroke: 'transparent', points: { show: false }, value: (_u, v) => fmt(spec.unit, v) });
      bands.push({ series: [maxIdx, maxIdx + 1], fill: cssVar(`${s.color}-band`) });
    }
  }
  const axis = (): uPlot.Axis => ({ stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } });
  const opts: uPlot.Options = {
    title: spec.title,
    width,
    height: 180,
    series,
    bands,
    cursor: { sync: { key: 'host' }, drag: { x: true, y: false } },
    scales: { x: { time: true, range: (u, min, max) => xRange(min, max, u.data?.[0] ?? []) }, y: spec.unit === 'pct' && !spec.fit ? { range: [0, 100] } : { range: (_u, min, max) => [0, Math.max(max, min + 1, spec.unit === 'pct' ? 100 : spec.unit === 'count' ? 0 : 10) * 1.1] } },
    // Rates need room for "750 kB/s".
    axes: [{ ...axis(), incrs: TIME_INCRS_S }, { ...axis(), size: spec.unit === 'rate' || spec.unit === 'bytes' ? 80 : 64, values: (_u, vals) => vals.map((v) => fmt(spec.unit, v)) }],
    legend: { live: true },
  };
  const u = new uPlot(opts, [data.t, ...columns] as uPlot.AlignedData, el);
  if (onPick) pickable(u, onPick);
  return u;
}

/** Clicks on the plot (a press and release in the same place: a drag zooms instead) pick a time. */
function pickable(u: uPlot, onPick: (atMs: number) => void): void {
  let down: { x: number; y: number } | null = null;
  u.over.classList.add('pickable');
  u.over.addEventListener('mousedown', (e) => { down = { x: e.clientX, y: e.clientY }; });
  u.over.addEventListener('click', (e) => {
    const moved = down ? Math.abs(e.clientX - down.x) + Math.abs(e.clientY - down.y) : 0;
    down = null;
    if (moved > 3) return;
    // From the click itself: the cursor's own index may not have caught up with the pointer yet.
    const idx = u.posToIdx(e.clientX - u.over.getBoundingClientRect().left);
    const t = u.data[0][idx];
    if (typeof t === 'number') onPick(t * 1000);
  });
}
