// Acknowledged samples (acked-samples), the manager's side: per agent, which numbered samples wait
// for the history's next flush and which are written, so that a resent sample is taken once and a
// written one is acknowledged again at once (the first ack was lost). Acks go out when the store
// says a flush wrote backfill (the agent's window waits on them); live samples, which the agent
// keeps on its disk meanwhile, are acknowledged together every ACK_LIVE_MS, so that 10,000 agents
// reporting every second cost 500 small writes a second, not 2,000. Kept in memory across an agent's reconnections, not across a
// manager restart: a sample resent after one lands in the same history slot again (the store files
// a repeat in place); but one folded into a roll-up would count twice, so those numbers are kept on
// disk too (folded-runs.ts) and known again at the agent's next hello.

import type { FoldedRuns } from './folded-runs.ts';
import { FOLDED_RUNS_KEPT } from './folded-runs.ts';
import type { SamplesAck } from '../wire/messages.ts';
import { SAMPLES_ACK_MAX_RANGES } from '../wire/messages.ts';

/**
 * Runs of written sample numbers remembered per agent (the oldest forgotten first). Written
 * numbers come in runs (one growing run for an agent that reports live), so this is a few dozen
 * bytes an agent at 10,000 agents.
 */
const WRITTEN_RUNS_KEPT = 64;
/** Backfill samples one agent may have in flight, and the least granted under load. */
export const SAMPLES_WINDOW = 256;
const SAMPLES_WINDOW_MIN = 16;
/** Written live samples are acknowledged together at least this often (the agent resends after 60 s). */
export const ACK_LIVE_MS = 20_000;
/** Runs held before they are sent whatever the time. */
const UNSENT_RUNS_MAX = 32;
/** Samples waiting for the history's flush, fleet-wide, at which every window is the least. */
const FLEET_PENDING_BUDGET = 200_000;

interface AgentSamples {
  epoch: string;
  /** taken by the history, not yet written (a handful: a flush writes them all) */
  waiting: number[];
  /** written: sorted, merged, inclusive runs */
  written: [number, number][];
  /** written and not yet acknowledged */
  unsent: [number, number][];
  /** written and folded into a roll-up (folded-runs.ts): kept on disk, and known again after a restart */
  folded: [number, number][];
  /** backfill was taken since the last ack: acknowledge at the next write */
  urgent: boolean;
  sentAt: number;
}

export type Receipt = 'new' | 'waiting' | 'written';

export interface SampleAcksOptions {
  /** sends an agent its acknowledgement, if it is connected */
  post: (agentId: string, msg: SamplesAck) => void;
  /** samples waiting for the history's flush, fleet-wide (counted over the fleet: asked once a second at most) */
  pending: () => number;
  now?: () => number;
  /** where the numbers of folded samples are kept across restarts (none: memory only) */
  folded?: FoldedRuns;
  /** a failing disk when they are kept (the samples are acknowledged all the same) */
  notice?: (line: string) => void;
}

export class SampleAcks {
  private readonly o: SampleAcksOptions;
  private readonly agents = new Map<string, AgentSamples>();
  private readonly now: () => number;
  private windowNow = { at: -Infinity, window: SAMPLES_WINDOW };

  constructor(o: SampleAcksOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /**
   * The window to grant now: the fleet's budget of samples waiting for the disk, less what waits,
   * shared by the agents (so 10,000 agents back after a manager restart get 20 each, not 256), and
   * never below the least.
   */
  window(): number {
    const t = this.now();
    if (t - this.windowNow.at < 1000) return this.windowNow.window;
    const share = (FLEET_PENDING_BUDGET - this.o.pending()) / Math.max(1, this.agents.size);
    this.windowNow = { at: t, window: Math.max(SAMPLES_WINDOW_MIN, Math.min(SAMPLES_WINDOW, Math.floor(share))) };
    return this.windowNow.window;
  }

  /** An agent said hello with this numbering: a new one forgets what was known of the old. */
  hello(agentId: string, epoch: string): void {
    const a = this.agents.get(agentId);
    if (a?.epoch === epoch) return;
    const fresh = blank(epoch);
    // After a restart: what the history folded before it is written already, whatever this process knows.
    const kept = this.o.folded?.load(agentId);
    if (kept && kept.epoch === epoch) {
      fresh.folded = kept.runs;
      fresh.written = kept.runs.map(([x, y]) => [x, y]);
    }
    this.agents.set(agentId, fresh);
  }

  forget(agentId: string): void {
    this.agents.delete(agentId);
    this.o.folded?.forget(agentId);
  }

  /** A numbered report arrived: take it ('new'), or not (already waiting, or written: acked again). */
  receive(agentId: string, seq: number): Receipt {
    const a = this.agent(agentId);
    if (a.waiting.includes(seq)) return 'waiting';
    const within = ([from, to]: [number, number]) => seq >= from && seq <= to;
    if (a.written.some(within) || a.folded.some(within)) {
      this.post(agentId, [[seq, seq]]);
      return 'written';
    }
    return 'new';
  }

  /** The history took it: acknowledged once a flush writes it (at that flush when it is backfill). */
  taken(agentId: string, seq: number, backfill = false): void {
    const a = this.agent(agentId);
    a.waiting.push(seq);
    if (backfill) a.urgent = true;
  }

  /**
   * The history wrote these (or can never keep them: acknowledged all the same, or the agent
   * would send them for ever).
   */
  written(agentId: string, seqs: readonly number[], folded: readonly number[] = []): void {
    if (!seqs.length) return;
    const a = this.agent(agentId);
    if (folded.length) this.keepFolded(agentId, a, folded);
    if (!a.waiting.length && inOrder(seqs)) {
      // A live agent's flush: one run in order, extending the runs in place (nothing allocated).
      extendRuns(a.written, seqs[0]!, seqs[seqs.length - 1]!);
      if (a.written.length > WRITTEN_RUNS_KEPT) a.written.splice(0, a.written.length - WRITTEN_RUNS_KEPT);
      extendRuns(a.unsent, seqs[0]!, seqs[seqs.length - 1]!);
      this.maybePost(agentId, a);
      return;
    }
    const ranges = runsOf(seqs);
    if (a.waiting.length) {
      // Usually a flush wrote all that waited: no new array then.
      const all = a.waiting.every((w) => ranges.some(([from, to]) => w >= from && w <= to));
      if (all) a.waiting.length = 0;
      else a.waiting = a.waiting.filter((w) => !ranges.some(([from, to]) => w >= from && w <= to));
    }
    a.written = addRuns(a.written, ranges);
    if (a.written.length > WRITTEN_RUNS_KEPT) a.written.splice(0, a.written.length - WRITTEN_RUNS_KEPT);
    a.unsent = addRuns(a.unsent, ranges);
    this.maybePost(agentId, a);
  }

  /** Folded samples are on disk as folded before they are acknowledged (a write that fails is said, not fatal). */
  private keepFolded(agentId: string, a: AgentSamples, folded: readonly number[]): void {
    a.folded = toRanges(folded, a.folded);
    if (a.folded.length > FOLDED_RUNS_KEPT) a.folded.splice(0, a.folded.length - FOLDED_RUNS_KEPT);
    if (!this.o.folded) return;
    try {
      this.o.folded.save(agentId, { epoch: a.epoch, runs: a.folded });
    } catch (err) {
      this.o.notice?.(`history: agent ${agentId}: the numbers of its folded samples not kept (${(err as Error).message}); one resent after a restart would be counted twice in its minute`);
    }
  }

  /** Sends what is written and unacknowledged, now for backfill, else every ACK_LIVE_MS. */
  private maybePost(agentId: string, a: AgentSamples): void {
    const t = this.now();
    if (!a.urgent && a.unsent.length < UNSENT_RUNS_MAX && t - a.sentAt < ACK_LIVE_MS) return;
    this.post(agentId, a.unsent);
    a.unsent = [];
    a.urgent = false;
    a.sentAt = t;
  }

  /** Sends every acknowledgement held back (the manager is stopping: the agents need not resend). */
  flushAll(): void {
    for (const [id, a] of this.agents) {
      if (!a.unsent.length) continue;
      this.post(id, a.unsent);
      a.unsent = [];
      a.urgent = false;
      a.sentAt = this.now();
    }
  }

  /** Samples known for the agents now (for /api/stats and the benchmark). */
  waiting(): number {
    let n = 0;
    for (const a of this.agents.values()) n += a.waiting.length;
    return n;
  }

  private agent(agentId: string): AgentSamples {
    let a = this.agents.get(agentId);
    if (!a) this.agents.set(agentId, (a = blank('')));
    return a;
  }

  private post(agentId: string, ranges: readonly [number, number][]): void {
    const window = this.window();
    for (let i = 0; i < ranges.length; i += SAMPLES_ACK_MAX_RANGES) {
      this.o.post(agentId, { type: 'samples-ack', ranges: ranges.slice(i, i + SAMPLES_ACK_MAX_RANGES), window });
    }
  }
}

function blank(epoch: string): AgentSamples {
  return { epoch, waiting: [], written: [], unsent: [], folded: [], urgent: false, sentAt: -Infinity };
}

/** True when `seqs` is one run in order (n, n+1, ...). */
function inOrder(seqs: readonly number[]): boolean {
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1]! + 1) return false;
  return true;
}

/** Adds the run from..to to `runs` in place: extends the last when it follows on, else appends (or merges afresh). */
function extendRuns(runs: [number, number][], from: number, to: number): void {
  const last = runs[runs.length - 1];
  if (!last || from > last[1] + 1) runs.push([from, to]);
  else if (from >= last[0]) last[1] = Math.max(last[1], to);
  else runs.splice(0, runs.length, ...toRanges([], [...runs, [from, to]]));
}

/** The runs of `seqs`: one run without sorting or copying when they are in order (a flush's usual case). */
function runsOf(seqs: readonly number[]): [number, number][] {
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1]! + 1) return toRanges(seqs);
  return [[seqs[0]!, seqs[seqs.length - 1]!]];
}

/** `runs` with `more` added: in place when they extend the last run (the usual case), else merged afresh. */
function addRuns(runs: [number, number][], more: readonly [number, number][]): [number, number][] {
  const last = runs[runs.length - 1];
  if (more.length === 1 && (!last || more[0]![0] > last[1] + 1)) {
    runs.push([more[0]![0], more[0]![1]]);
    return runs;
  }
  if (more.length === 1 && last && more[0]![0] >= last[0] && more[0]![0] <= last[1] + 1) {
    last[1] = Math.max(last[1], more[0]![1]);
    return runs;
  }
  return toRanges([], [...runs, ...more]);
}

/** Sorted, merged, inclusive runs of the numbers given, merged with runs already made. */
export function toRanges(seqs: readonly number[], runs: readonly (readonly [number, number])[] = []): [number, number][] {
  const all: [number, number][] = runs.map(([a, b]) => [a, b]);
  for (const s of seqs) all.push([s, s]);
  all.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of all) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
