// History of who: once every --processes-every the agent's sample carries its top processes by CPU
// and by memory, cut to the bounds the report allows, so they ride the spool and the backfill.
// On a host where reading the processes takes long (tens of thousands of them), the period grows
// to COST_FACTOR times what the last reading took, so the history costs at most 0.2% of a core;
// the agent's log says so once.

import type { ProcessRow, ProcessSort, SampleProcesses, TopProcesses } from '../collect/types.ts';
import { PROCESS_COMMAND_MAX, PROCESS_NAME_MAX, PROCESS_ROWS_MAX } from '../wire/processes.ts';

export const DEFAULT_PROCESSES_EVERY_MS = 60_000;
export const DEFAULT_PROCESSES_TOP = 10;
/** The memory list comes from the CPU list's reading when that is younger than this. */
const SAME_READING_MS = 1000;
/** The period is at least this many times what the last reading took. */
export const COST_FACTOR = 500;

export interface TopTakerOptions {
  top: (o: { n: number; sort: ProcessSort; maxAgeMs?: number }) => Promise<TopProcesses>;
  everyMs: number;
  /** rows of each list (at most PROCESS_ROWS_MAX) */
  n: number;
  log: (line: string) => void;
  /** monotonic ms, for what a reading costs */
  clock?: () => number;
}

export class TopTaker {
  private readonly o: TopTakerOptions;
  private lastAt = -Infinity;
  private failedSaid = false;
  /** the period now: everyMs, or longer after a reading that took long */
  private periodMs: number;
  private stretchedSaid = false;

  constructor(o: TopTakerOptions) {
    this.o = { ...o, n: Math.max(1, Math.min(PROCESS_ROWS_MAX, Math.floor(o.n))) };
    this.periodMs = o.everyMs;
  }

  /**
   * The lists when a period has passed since the last ones (judged on the samples' own times, with
   * half a period or 0.5 s of slack so a late timer does not skip a period), else undefined.
   */
  async take(at: number): Promise<SampleProcesses | undefined> {
    const slack = Math.min(500, this.o.everyMs / 2);
    if (at - this.lastAt < this.periodMs - slack) return undefined;
    this.lastAt = at;
    const clock = this.o.clock ?? (() => performance.now());
    const t0 = clock();
    try {
      // CPU first: its percentages are over the time since the sampler's previous reading.
      const byCpu = await this.o.top({ n: this.o.n, sort: 'cpu' });
      const byMem = await this.o.top({ n: this.o.n, sort: 'mem', maxAgeMs: SAME_READING_MS });
      this.failedSaid = false;
      const tookMs = clock() - t0;
      this.periodMs = Math.max(this.o.everyMs, Math.round(tookMs * COST_FACTOR));
      if (this.periodMs > this.o.everyMs && !this.stretchedSaid) {
        this.stretchedSaid = true;
        this.o.log(`reading the ${byCpu.total} processes took ${Math.round(tookMs)} ms: the top processes are kept every ${Math.round(this.periodMs / 1000)} s instead of every ${Math.round(this.o.everyMs / 1000)} s (at most 0.2% of a core)`);
      }
      return { byCpu: byCpu.processes.slice(0, this.o.n).map(cut), byMem: byMem.processes.slice(0, this.o.n).map(cut) };
    } catch (err) {
      if (!this.failedSaid) this.o.log(`cannot list the top processes: ${(err as Error).message}`);
      this.failedSaid = true;
      return undefined;
    }
  }
}

function cut(r: ProcessRow): ProcessRow {
  return {
    pid: r.pid, name: r.name.slice(0, PROCESS_NAME_MAX), user: r.user?.slice(0, PROCESS_NAME_MAX) ?? null,
    command: r.command?.slice(0, PROCESS_COMMAND_MAX) ?? null, cpuPercent: r.cpuPercent, memBytes: r.memBytes,
    ioBytesPerSec: r.ioBytesPerSec, state: r.state?.slice(0, 32) ?? null, startedAt: r.startedAt,
  };
}
