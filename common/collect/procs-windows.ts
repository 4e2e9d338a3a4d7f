// The host's processes now on Windows, from `tasklist /v /fo csv /nh` through an injected Runner
// (tasklist ships with every Windows and needs no PowerShell). Its "CPU Time" is cumulative
// (h:mm:ss), so CPU % is the delta between this reading and the previous one, in whole seconds of
// CPU: coarse over a short interval. The first reading (and a process seen for the first time) has
// no previous value: its CPU % is null. tasklist says nothing of I/O, start time or command line.
import { HwError } from '../errors.ts';
import type { Runner } from '../util/runner.ts';
import { MAX_TRACKED_PIDS, TOP_MAX } from './procs-linux.ts';
import type { ProcessRow, ProcessSort, TopProcesses } from './types.ts';

const TASKLIST_TIMEOUT_MS = 10_000;
const TASKLIST_MAX_BYTES = 16 * 1024 * 1024;

export interface TasklistRow {
  name: string;
  pid: number;
  memBytes: number | null;
  state: string | null;
  user: string | null;
  cpuSeconds: number | null;
}

/** One CSV line's quoted fields ("a","b,c" → a, b,c); tasklist doubles quotes inside a field. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"]|"")*)"(?:,|$)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1]!.replace(/""/g, '"'));
  return out;
}

/**
 * `"Image Name","PID","Session Name","Session#","Mem Usage","Status","User Name","CPU Time","Window Title"`.
 * Memory is "12,345 K" with the locale's thousands separator; N/A user or status is null.
 */
export function parseTasklistVerbose(text: string): TasklistRow[] {
  const rows: TasklistRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!/^"[^"]*","\d+"/.test(line)) continue;
    const f = csvFields(line);
    const kb = f[4] ? Number(f[4].replace(/\D/g, '')) : Number.NaN;
    const cpu = /^(\d+):(\d\d):(\d\d)$/.exec(f[7] ?? '');
    rows.push({
      name: f[0]!, pid: Number(f[1]), memBytes: f[4] && Number.isFinite(kb) ? kb * 1024 : null,
      state: f[5] && f[5] !== 'N/A' && f[5] !== 'Unknown' ? f[5] : null, user: f[6] && f[6] !== 'N/A' ? f[6] : null,
      cpuSeconds: cpu ? Number(cpu[1]) * 3600 + Number(cpu[2]) * 60 + Number(cpu[3]) : null,
    });
  }
  if (!rows.length) throw new HwError('UNAVAILABLE', 'tasklist listed no processes');
  return rows;
}

export class WindowsProcesses {
  private readonly runner: Runner;
  private readonly clock: () => number;
  private readonly now: () => number;
  private prev = new Map<number, { name: string; cpuSeconds: number }>();
  private prevAt: number | undefined;

  constructor(o: { runner: Runner; clock?: () => number; now?: () => number }) {
    this.runner = o.runner;
    this.clock = o.clock ?? (() => performance.now());
    this.now = o.now ?? Date.now;
  }

  async top(o: { n: number; sort: ProcessSort }): Promise<TopProcesses> {
    const n = Math.max(1, Math.min(TOP_MAX, Math.floor(o.n)));
    const r = await this.runner('tasklist', ['/v', '/fo', 'csv', '/nh'], { timeoutMs: TASKLIST_TIMEOUT_MS, maxBytes: TASKLIST_MAX_BYTES });
    if (r.code !== 0) throw new HwError('UNAVAILABLE', `tasklist failed: ${r.code === null ? (r.error ?? 'killed') : `exit code ${r.code}`}`);
    const all = parseTasklistVerbose(r.stdout);
    const t = this.clock();
    const elapsedS = this.prevAt === undefined ? 0 : (t - this.prevAt) / 1000;
    this.prevAt = t;
    const next = new Map<number, { name: string; cpuSeconds: number }>();
    const rows: ProcessRow[] = [];
    for (const p of all.slice(0, MAX_TRACKED_PIDS)) {
      const before = this.prev.get(p.pid);
      let cpu: number | null = null;
      // The same pid with the same image is the same process (a pid reused by another is not).
      if (p.cpuSeconds !== null && before && before.name === p.name && elapsedS > 0) cpu = Math.round(((p.cpuSeconds - before.cpuSeconds) / elapsedS) * 1000) / 10;
      if (p.cpuSeconds !== null) next.set(p.pid, { name: p.name, cpuSeconds: p.cpuSeconds });
      rows.push({ pid: p.pid, name: p.name, user: p.user, command: null, cpuPercent: cpu === null ? null : Math.max(0, cpu), memBytes: p.memBytes, ioBytesPerSec: null, state: p.state, startedAt: null });
    }
    this.prev = next;
    const key = (x: ProcessRow) => (o.sort === 'cpu' ? x.cpuPercent : o.sort === 'mem' ? x.memBytes : x.ioBytesPerSec) ?? -1;
    rows.sort((a, b) => key(b) - key(a));
    const unavailable: Record<string, string> = { io: 'not read on Windows (tasklist does not say)', command: 'not read on Windows (tasklist does not say)', startedAt: 'not read on Windows (tasklist does not say)' };
    if (elapsedS === 0) unavailable.cpuPercent = 'first reading: CPU % is a delta between two readings, ask again';
    return { at: this.now(), total: all.length, processes: rows.slice(0, n), unavailable };
  }
}
