// CPU busy percent between two readings of cumulative CPU time. Each caller owns a CpuMeter (the
// 1 s alert sampler and the interval report each keep their own previous reading), so neither
// shortens the other's window; the readings themselves are shared (SharedCpuTimes), so a report
// due in the same tick as the sampler does not read /proc/stat a second time.
import os from 'node:os';
import { join } from 'node:path';
import { SAME_TICK_MS, ProcFile } from './proc-file.ts';
import { DEFAULT_PROC_ROOT, parseCpuTimes, readProc, type CpuTimes } from './proc-linux.ts';

export type { CpuTimes };

/** Reads cumulative CPU times: /proc/stat on Linux (no spawn), os.cpus() elsewhere. Throws HwError. */
export function readCpuTimes(platform: NodeJS.Platform = process.platform, procRoot = DEFAULT_PROC_ROOT): CpuTimes {
  if (platform === 'linux') return parseCpuTimes(readProc(procRoot, 'stat'));
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
  }
  return { idle, total };
}

/**
 * One source of CPU-time readings for several meters: a reading younger than SAME_TICK_MS is
 * handed out again (the meters asking in the same tick get the same snapshot). On Linux
 * /proc/stat stays open (proc-file.ts).
 */
export class SharedCpuTimes {
  private readonly readNow: () => CpuTimes;
  private readonly file: ProcFile | null = null;
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private last: CpuTimes | null = null;
  private lastAt = 0;

  constructor(opts: { platform?: NodeJS.Platform; procRoot?: string; read?: () => CpuTimes; now?: () => number; maxAgeMs?: number } = {}) {
    const platform = opts.platform ?? process.platform;
    this.now = opts.now ?? (() => performance.now());
    this.maxAgeMs = opts.maxAgeMs ?? SAME_TICK_MS;
    if (opts.read) {
      this.readNow = opts.read;
    } else if (platform === 'linux') {
      const file = new ProcFile(join(opts.procRoot ?? DEFAULT_PROC_ROOT, 'stat'));
      this.file = file;
      this.readNow = () => parseCpuTimes(file.read());
    } else {
      this.readNow = () => readCpuTimes(platform);
    }
  }

  /** Throws HwError (and keeps nothing) when the source cannot be read. */
  read(): CpuTimes {
    const t = this.now();
    if (this.last && t - this.lastAt < this.maxAgeMs) return this.last;
    this.last = null;
    this.last = this.readNow();
    this.lastAt = t;
    return this.last;
  }

  close(): void {
    this.file?.close();
  }
}

export type CpuResult =
  | { percent: number; reason?: undefined; tooSoon?: undefined }
  /** `tooSoon`: no CPU time elapsed between the readings; calling again a little later will work. */
  | { percent: null; reason: string; tooSoon?: boolean };

/** Busy percent (one decimal) between two readings, or why there is none. */
export function busyPercent(prev: CpuTimes, cur: CpuTimes): CpuResult {
  const dTotal = cur.total - prev.total;
  const dIdle = cur.idle - prev.idle;
  if (dTotal === 0) return { percent: null, reason: 'no CPU time elapsed since the previous reading', tooSoon: true };
  // Counters go backwards when a CPU goes offline (the aggregate drops its share) or the source resets.
  if (dTotal < 0 || dIdle < 0 || dIdle > dTotal) return { percent: null, reason: 'CPU counters went backwards' };
  return { percent: Math.round(((dTotal - dIdle) / dTotal) * 1000) / 10 };
}

export class CpuMeter {
  private prev: CpuTimes | null = null;
  private readonly read: () => CpuTimes;

  /** Takes the first reading at once, so the first measure() already has a window. */
  constructor(opts: { platform?: NodeJS.Platform; procRoot?: string; read?: () => CpuTimes } = {}) {
    const platform = opts.platform ?? process.platform;
    const procRoot = opts.procRoot ?? DEFAULT_PROC_ROOT;
    this.read = opts.read ?? (() => readCpuTimes(platform, procRoot));
    try {
      this.prev = this.read();
    } catch {
      // measure() reports the failure when it is asked for a value.
    }
  }

  /** Busy percent since the previous successful measure() (or construction). */
  measure(): CpuResult {
    let cur: CpuTimes;
    try {
      cur = this.read();
    } catch (err) {
      return { percent: null, reason: (err as Error).message };
    }
    const prev = this.prev;
    if (!prev) {
      this.prev = cur;
      return { percent: null, reason: 'first CPU reading: no previous one to compare', tooSoon: true };
    }
    const r = busyPercent(prev, cur);
    // Keep the old baseline when nothing elapsed, so a retry measures a real window.
    if (!r.tooSoon) this.prev = cur;
    return r;
  }
}
