// History store: 10,000 agents reporting once a second into the real store (common/history/, on
// this machine's disk, flushed every HISTORY_FLUSH_MS as the manager does), timed inside the
// store's calls; a 30-day query for one agent; one metric across 1,000 agents over 24 hours; the
// store's memory per agent. The long spans are written first with an injected clock.

import { statSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HISTORY_FLUSH_MS, DEFAULT_RETENTION, FLUSH_SLICES, HistoryStore, tierSpecs } from '../../common/history/store.ts';
import { layout } from '../../common/history/format.ts';
import { agentHistory, fleetHistory } from '../../common/history/query.ts';
import type { InterfaceCounters, Metrics, MountUsage } from '../../common/collect/types.ts';
import { quantile, sleep, tempDir } from './procs.ts';
import { SampleAcks } from '../../common/manager/sample-acks.ts';

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';

const H = 3600_000;
const D = 24 * H;

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function sample(i: number, t: number): { m: Metrics; ifs: InterfaceCounters[]; mounts: MountUsage[] } {
  const cpu = (Math.sin(t / 60_000 + i) + 1) * 40 + (i % 7);
  return {
    m: {
      cpuPercent: cpu, memPercent: 40 + (i % 30), diskPercent: 55, netRxBytes: t, netTxBytes: t / 2, uptimeSeconds: t / 1000, processCount: 120 + (i % 50),
      memTotalBytes: 8e9, memAvailableBytes: 5e9, netRxRate: 1000 + i, netTxRate: 500, load1: 0.5, swapTotalBytes: 2e9, swapUsedBytes: 1e8,
    },
    ifs: [{ name: 'eth0', rxBytes: t, txBytes: t, rxRate: 1000, txRate: 500 }, { name: 'eth1', rxBytes: 0, txBytes: 0, rxRate: 0, txRate: 0 }],
    mounts: [{ mount: '/', size: 1e11, used: 4e10, percent: 40 }, { mount: '/var', size: 2e11, used: 1e11, percent: 50 }],
  };
}

/**
 * Live ingest: `agents` reports a second for `seconds`, paced by the wall clock. With `acks`, as
 * the manager does for agents that name acked-samples: each report numbered and acknowledged
 * through SampleAcks once written, the acks encoded as they are sent.
 */
async function ingest(agents: number, seconds: number, acks = false): Promise<Record<string, number>> {
  const dir = tempDir('hw-bench-hist-');
  let ackMsgs = 0;
  let ackBytes = 0;
  const sampleAcks = new SampleAcks({
    post: (_id, msg) => { ackMsgs++; ackBytes += Buffer.byteLength(JSON.stringify(msg)); },
    pending: () => 0,
  });
  const store = new HistoryStore({ dir, timer: false, ...(acks ? { onWritten: (id: string, seqs: number[]) => sampleAcks.written(id, seqs) } : {}) });
  const cached = Array.from({ length: agents }, (_, i) => sample(i, Date.now()));
  gc();
  const heap0 = process.memoryUsage();
  // Each agent's first report makes its file (a one-off, timed apart from the steady state).
  const c0 = performance.now();
  for (let i = 0; i < agents; i++) store.add(`agent-${i}`, 1, Date.now() - 1000, cached[i]!.m, cached[i]!.ifs, cached[i]!.mounts);
  store.flush();
  const createMs = performance.now() - c0;
  store.counters.addMs = store.counters.flushMs = store.counters.samples = store.counters.written = 0;
  const t0 = performance.now();
  const epoch0 = Date.now();
  const cpu0 = process.cpuUsage();
  let maxPending = 0;
  let maxFlushMs = 0;
  let lastFlush = performance.now();
  let sliceNo = 0;
  let behind = 0;
  // CPU time (not wall time) in the store's calls: the machine may be busy with other work.
  let addCpuMs = 0;
  let flushCpuMs = 0;
  for (let s = 0; s < seconds; s++) {
    const tick = t0 + s * 1000;
    // Spread the second's reports in 10 slices, as they arrive from a real fleet.
    for (let slice = 0; slice < 10; slice++) {
      // Stamped when the agent took it (one a second each), however late this loop runs.
      const at = epoch0 + s * 1000 + slice * 100;
      const u0 = process.cpuUsage();
      for (let i = slice; i < agents; i += 10) {
        const c = cached[i]!;
        c.m.cpuPercent = ((i * 7 + s * 13) % 100);
        if (acks) {
          // As the router does for a live report: numbered, no lookup (only backfill can repeat one).
          store.add(`agent-${i}`, 1, at + (i % 97), c.m, c.ifs, c.mounts, false, s);
        } else {
          store.add(`agent-${i}`, 1, at + (i % 97), c.m, c.ifs, c.mounts);
        }
      }
      addCpuMs += cpuMs(process.cpuUsage(u0));
      // As the manager's timer does: one slice of the agents every tenth of the flush period.
      if (performance.now() - lastFlush >= HISTORY_FLUSH_MS / FLUSH_SLICES) {
        maxPending = Math.max(maxPending, store.pendingSamples());
        const f0 = performance.now();
        const u1 = process.cpuUsage();
        store.flushSlice(sliceNo++ % FLUSH_SLICES);
        flushCpuMs += cpuMs(process.cpuUsage(u1));
        maxFlushMs = Math.max(maxFlushMs, performance.now() - f0);
        lastFlush = f0;
      }
      const wait = tick + (slice + 1) * 100 - performance.now();
      if (wait > 0) await sleep(wait);
      else behind++;
    }
  }
  const u2 = process.cpuUsage();
  store.flush();
  flushCpuMs += cpuMs(process.cpuUsage(u2));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  gc();
  const heap1 = process.memoryUsage();
  let bytes = 0;
  for (const f of readdirSync(dir)) bytes += statSync(join(dir, f)).blocks * 512;
  const c = store.counters;
  const out = {
    agents, seconds, createMs, samples: c.samples, written: c.written, overwritten: c.overwritten, failed: c.failedWrites, dropped: c.dropped,
    addMs: c.addMs, flushMs: c.flushMs, addCpuMs, flushCpuMs, historyCore: (addCpuMs + flushCpuMs) / wall, historyWallShare: (c.addMs + c.flushMs) / wall, processCore: (cpu.user + cpu.system) / 1000 / wall,
    maxPending, maxFlushMs, pendingEnd: store.pendingSamples(), behind, ackMsgs, ackBytes,
    heapPerAgent: (heap1.heapUsed - heap0.heapUsed) / agents, externalPerAgent: (heap1.external + heap1.arrayBuffers - heap0.external - heap0.arrayBuffers) / agents,
    diskPerAgent: bytes / agents,
  };
  store.close();
  return out;
}

/** Writes `days` of samples every `intervalS` for each agent, with an injected clock. */
function backfill(store: HistoryStore, clock: { t: number }, ids: string[], end: number, days: number, intervalS: number): void {
  const step = intervalS * 1000;
  let n = 0;
  for (let t = end - days * D; t < end; t += step) {
    clock.t = t;
    for (let i = 0; i < ids.length; i++) {
      const s = sample(i, t);
      store.add(ids[i]!, intervalS, t, s.m, s.ifs, s.mounts);
    }
    if (++n % Math.max(1, Math.round(3600 / intervalS / Math.max(1, ids.length / 10))) === 0) store.flush();
  }
  clock.t = end + 10 * 60_000;
  store.flush();
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

function timeIt(runs: number, fn: () => unknown): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

export const history: Scenario = {
  id: 'history',
  title: 'History store',
  async run(ctx: Ctx): Promise<Outcome> {
    const agents = ctx.quick ? 1000 : 10_000;
    const seconds = ctx.quick ? 12 : 60;
    const loadBefore = loadavg()[0]!;
    ctx.log(`history: ingest, ${agents} agents x ${seconds} s`);
    const ing = await ingest(agents, seconds);
    // The same with acknowledged samples (acked-samples), right after: the difference is what the acknowledgements cost.
    const ack = await ingest(agents, seconds, true);
    const ackCost = (ack.addCpuMs + ack.flushCpuMs - ing.addCpuMs - ing.flushCpuMs) / seconds;

    // 30 days for one agent at the default 5 s interval (quick: 60 s).
    const end = Date.UTC(2026, 10, 30);
    const clock = { t: end };
    const oneInterval = ctx.quick ? 60 : 5;
    const oneDir = tempDir('hw-bench-hist1-');
    let store = new HistoryStore({ dir: oneDir, timer: false, now: () => clock.t });
    ctx.log(`history: writing 30 days for one agent at ${oneInterval} s`);
    const w0 = performance.now();
    backfill(store, clock, ['one'], end, 30, oneInterval);
    const writeOneS = (performance.now() - w0) / 1000;
    store.close();
    store = new HistoryStore({ dir: oneDir, timer: false, now: () => clock.t });
    const month = { from: end - 30 * D, to: end, points: 200 };
    const cold = timeIt(1, () => agentHistory(store, 'one', month, true))[0]!;
    const warm = timeIt(ctx.quick ? 5 : 20, () => agentHistory(store, 'one', month, true));
    const monthAnswer = agentHistory(store, 'one', month, false);
    const dayAnswer = timeIt(ctx.quick ? 3 : 10, () => agentHistory(store, 'one', { from: end - D, to: end, points: 1000 }, false));
    store.close();

    // 24 hours for many agents (60 s samples: the query reads the roll-ups, not the raw tier).
    const fleetN = ctx.quick ? 200 : 1000;
    const fleetDir = tempDir('hw-bench-histN-');
    const ids = Array.from({ length: fleetN }, (_, i) => `fleet-${i}`);
    store = new HistoryStore({ dir: fleetDir, timer: false, now: () => clock.t, openFiles: 2048 });
    ctx.log(`history: writing 24 h for ${fleetN} agents`);
    const w1 = performance.now();
    backfill(store, clock, ids, end, 1, 60);
    const writeFleetS = (performance.now() - w1) / 1000;
    store.close();
    // A restart: the store starts without reading any file; each agent's file is opened (header,
    // tail check) at its first report or query.
    const s0 = performance.now();
    store = new HistoryStore({ dir: fleetDir, timer: false, now: () => clock.t, openFiles: 2048 });
    const startMs = performance.now() - s0;
    const r0 = performance.now();
    for (let i = 0; i < fleetN; i++) {
      const sm = sample(i, clock.t);
      store.add(ids[i]!, 60, clock.t, sm.m, sm.ifs, sm.mounts);
    }
    store.flush();
    const reopenMs = performance.now() - r0;
    const list = ids.map((id) => ({ id, name: id }));
    const day = { from: end - D, to: end, points: 200 };
    const fleetCold = timeIt(1, () => fleetHistory(store, list, 'cpuPercent', day))[0]!;
    const fleetWarm = timeIt(ctx.quick ? 3 : 5, () => fleetHistory(store, list, 'cpuPercent', day));
    const fleetAnswer = fleetHistory(store, list, 'cpuPercent', day) as { tier: string; step: number; times: number[] };
    const fleetFine = timeIt(3, () => fleetHistory(store, list, 'cpuPercent', { ...day, points: 1000 }));
    const fleetJson = JSON.stringify(fleetAnswer).length;
    store.close();

    const perAgentDisk = layout({ maxSeries: 40, tiers: tierSpecs(5000, DEFAULT_RETENTION) });
    const core = ing.historyCore * 100;
    const keepsUp = ing.pendingEnd === 0 && ing.maxFlushMs < HISTORY_FLUSH_MS / FLUSH_SLICES && ing.dropped === 0 && ing.failed === 0 && ing.written === ing.samples;
    const q30 = quantile(warm, 0.5);
    const qFleet = quantile(fleetWarm, 0.5);
    const memKiB = (ing.heapPerAgent + ing.externalPerAgent) / 1024;
    const goals: Goal[] = [
      { goal: `${agents.toLocaleString('en')} agents at one report a second: history writes keep up (no growing queue)`, figure: `max ${ing.maxPending.toLocaleString('en')} samples waiting before a flush, ${ing.pendingEnd} after; longest flush of a tenth of the agents ${fmt(ing.maxFlushMs, 0)} ms; ${ing.written.toLocaleString('en')} of ${ing.samples.toLocaleString('en')} written`, met: ctx.quick ? null : keepsUp },
      { goal: 'history costs the manager under 20% of a core at 10,000 agents', figure: `${fmt(core, 1)}% of a core (CPU time: ${fmt(ing.addCpuMs / seconds, 0)} ms/s taking reports, ${fmt(ing.flushCpuMs / seconds, 0)} ms/s writing)`, met: ctx.quick ? null : core < 20 },
      { goal: '30-day query for one agent under 50 ms', figure: `p50 ${fmt(q30, 1)} ms warm, ${fmt(cold, 1)} ms cold (${monthAnswer.points.length} points from tier ${monthAnswer.tier})`, met: ctx.quick ? null : q30 < 50 },
      { goal: 'one metric across 1,000 agents over 24 h under 500 ms', figure: `p50 ${fmt(qFleet, 0)} ms warm, ${fmt(fleetCold, 0)} ms cold (${fleetN} agents, ${fleetAnswer.times.length} points each from tier ${fleetAnswer.tier})`, met: ctx.quick ? null : qFleet < 500 },
      {
        goal: 'acknowledged samples cost the manager a few percent at most at 10,000 agents (CPU time in the store and the acks, with against without)',
        figure: `${fmt(ackCost, 1)} ms/s more (${fmt((ackCost * 100) / Math.max(1, (ing.addCpuMs + ing.flushCpuMs) / seconds), 1)}% over the history's ${fmt((ing.addCpuMs + ing.flushCpuMs) / seconds, 0)} ms/s); ${fmt(ack.ackMsgs / seconds, 0)} acks a second, ${fmt(ack.ackBytes / Math.max(1, ack.ackMsgs), 0)} bytes each`,
        met: ctx.quick ? null : ackCost * 100 / Math.max(1, (ing.addCpuMs + ing.flushCpuMs) / seconds) <= 10,
      },
      { goal: 'memory per agent stated; no growth with retention (the past is on disk)', figure: `${fmt(memKiB, 1)} KiB per agent in the store after ${seconds} s`, met: null },
    ];
    const body = [
      'The store itself (`common/history/`), in this process, on this machine\'s disk; the manager calls exactly `add()` for each report and its timer',
      `\`flushSlice()\` every ${HISTORY_FLUSH_MS / FLUSH_SLICES} ms (a tenth of the agents each time, so each is written every ${HISTORY_FLUSH_MS / 1000} s). Each report carries the 14 headline series, 2 mounts and 2 interfaces (22 series), stamped one a second per agent. Costs are measured around the store's calls`,
      '(CPU time of this process around each batch of calls, so other work on the machine does not count; wall time beside it).',
      '',
      ...table(['', 'figure'], [
        ['agents x seconds', `${agents.toLocaleString('en')} x ${seconds}`],
        ['machine load average (1 min) at the start / end (other work shares the 2 cores)', `${fmt(loadBefore, 2)} / ${fmt(loadavg()[0]!, 2)}`],
        ['reports taken / written / overwritten / dropped / failed', `${ing.samples.toLocaleString('en')} / ${ing.written.toLocaleString('en')} / ${ing.overwritten} / ${ing.dropped} / ${ing.failed}`],
        ['first report of each agent (makes its file), once', `${fmt(ing.createMs / agents, 2)} ms an agent (${fmt(ing.createMs / 1000, 1)} s for all)`],
        ['CPU time in add() (per second)', `${fmt(ing.addCpuMs / seconds, 1)} ms (wall time in it: ${fmt(ing.addMs / seconds, 1)} ms)`],
        ['CPU time in flush() (per second)', `${fmt(ing.flushCpuMs / seconds, 1)} ms (wall time in it: ${fmt(ing.flushMs / seconds, 1)} ms)`],
        ['the same with acknowledged samples: add() with the acks\' bookkeeping / flush() with the acks (per second)', `${fmt(ack.addCpuMs / seconds, 1)} ms / ${fmt(ack.flushCpuMs / seconds, 1)} ms; ${fmt(ack.ackMsgs / seconds, 0)} acks a second (live samples acknowledged together every 20 s)`],
        ['history, share of one core (CPU time)', `${fmt(core, 1)}% (wall time in the calls: ${fmt(ing.historyWallShare * 100, 1)}%)`],
        ['whole benchmark process, share of one core (incl. the load generator)', `${fmt(ing.processCore * 100, 1)}%`],
        ['samples waiting before a flush (max) / after the last', `${ing.maxPending.toLocaleString('en')} / ${ing.pendingEnd}`],
        [`longest flush (a tenth of the agents, every ${HISTORY_FLUSH_MS / FLUSH_SLICES} ms)`, `${fmt(ing.maxFlushMs, 0)} ms`],
        ['slices the load generator ran late', String(ing.behind)],
        ['store memory per agent (heap + buffers, after GC)', `${fmt(memKiB, 1)} KiB`],
        ['disk per agent after the run (blocks used)', `${fmt(ing.diskPerAgent / 1024, 0)} KiB`],
        ['30-day query, one agent, 200 points, with mounts and interfaces', `p50 ${fmt(q30, 1)} ms, p100 ${fmt(Math.max(...warm), 1)} ms, cold ${fmt(cold, 1)} ms; tier ${monthAnswer.tier}, ${monthAnswer.points.length} points`],
        ['24-hour query, one agent, 1000 points', `p50 ${fmt(quantile(dayAnswer, 0.5), 1)} ms`],
        [`cpuPercent of ${fleetN} agents over 24 h, 200 points`, `p50 ${fmt(qFleet, 0)} ms, cold ${fmt(fleetCold, 0)} ms; tier ${fleetAnswer.tier}, step ${fleetAnswer.step / 1000} s, ${fmt(fleetJson / 1024, 0)} KiB of JSON`],
        [`the same, 1000 points`, `p50 ${fmt(quantile(fleetFine, 0.5), 0)} ms (tier 1m)`],
        ['writing 30 days for one agent (injected clock)', `${fmt(writeOneS, 1)} s at ${oneInterval} s samples`],
        [`writing 24 h for ${fleetN} agents`, `${fmt(writeFleetS, 1)} s at 60 s samples`],
        [`start of the store over ${fleetN} agents' files`, `${fmt(startMs, 1)} ms (no file is read)`],
        [`first report of each of the ${fleetN} agents after that start (opens its file)`, `${fmt(reopenMs, 0)} ms in all, ${fmt(reopenMs / fleetN, 2)} ms an agent`],
        ['file per agent at the defaults (5 s interval)', `${fmt(perAgentDisk.size / 1024 / 1024, 1)} MiB, fixed: it never grows past this`],
      ]),
      '',
    ];
    return { body, goals, commands: [`npm run bench -- --only history${ctx.quick ? ' --quick' : ''}`] };
  },
};
