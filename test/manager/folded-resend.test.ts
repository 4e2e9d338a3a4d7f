// A long outage's backfill folded into the minute tier, then the manager killed before the agent
// had the acknowledgement: the agent resends those samples to the next manager. Real history files
// and the acknowledgement bookkeeping wired as the manager wires them (folded-runs.ts): the resent
// samples are acknowledged again, not folded twice (each minute still holds its 12 samples).

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Metrics } from '../../common/collect/types.ts';
import { agentHistory } from '../../common/history/query.ts';
import { HistoryStore } from '../../common/history/store.ts';
import { FoldedRuns } from '../../common/manager/folded-runs.ts';
import { SampleAcks } from '../../common/manager/sample-acks.ts';
import type { SamplesAck } from '../../common/wire/messages.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const D = 24 * 3600_000;
const END = Date.UTC(2026, 0, 11);
const START = END - 2 * D; // two days away: the first day is older than the raw ring
const metrics = (cpu: number): Metrics => ({
  cpuPercent: cpu, memPercent: 40, diskPercent: 55, netRxBytes: 1000, netTxBytes: 2000, uptimeSeconds: 60, processCount: 100,
  memTotalBytes: 8e9, memAvailableBytes: 6e9, netRxRate: 10, netTxRate: 20, swapTotalBytes: 1e9, swapUsedBytes: 25e7,
});

/** A manager's history and acknowledgements over `dir` (a new one is a restart), as manager.ts wires them. */
function manager(dir: string, keepFolded = true) {
  const acked: SamplesAck[] = [];
  let acks: SampleAcks | undefined;
  const history = new HistoryStore({ dir: join(dir, 'history'), now: () => END, timer: false, onWritten: (id, seqs, folded) => acks!.written(id, seqs, folded) });
  acks = new SampleAcks({ post: (_, m) => acked.push(m), pending: () => 0, now: () => END, ...(keepFolded ? { folded: new FoldedRuns(join(dir, 'history', 'folded')) } : {}) });
  /** The router's part for one backfilled sample. */
  const report = (seq: number): string => {
    const seen = acks!.receive('a1', seq);
    if (seen !== 'new') return seen;
    const r = history.add('a1', 5, START + seq * 5000, metrics(seq % 50), undefined, undefined, true, seq);
    if (r === 'taken') acks!.taken('a1', seq, true);
    return r;
  };
  return { history, acks, acked, report };
}

/** Samples in the minute tier over the first (folded) day. */
function foldedCounts(h: HistoryStore): number[] {
  return agentHistory(h, 'a1', { from: START, to: START + D - 60_000, points: 2000 }, false).points.map((p) => p.samples as number);
}

for (const keep of [true, false]) {
  test(keep ? 'resent after a restart: acknowledged again, not folded twice' : 'without the folded numbers kept (as before): the same resend counts twice', () => {
    const dir = tempDir('hw-fold-');
    const first = manager(dir, keep);
    first.acks.hello('a1', 'epoch-1');
    const n = 1440; // the first two hours of the outage: folded
    for (let s = 0; s < n; s++) {
      assert.is(first.report(s), 'taken');
      if (s % 240 === 239) first.history.flush(); // as the timer does (samples waiting are bounded)
    }
    first.history.flush(); // written, acknowledgement posted... and the manager is killed before the agent reads it
    assert.ok(first.acked.length > 0);
    const before = foldedCounts(first.history).slice(0, 120);
    assert.ok(before.every((c) => c === 12), 'each minute holds its 12 samples');

    const next = manager(dir, keep); // no close: as after kill -9
    next.acks.hello('a1', 'epoch-1');
    const answers = Array.from({ length: n }, (_, s) => {
      const a = next.report(s);
      if (s % 240 === 239) next.history.flush();
      return a;
    });
    next.history.flush();
    const after = foldedCounts(next.history).slice(0, 120);
    if (keep) {
      assert.ok(answers.every((a) => a === 'written'), 'known as written: acknowledged again at once');
      assert.equal(after, before);
    } else {
      assert.ok(answers.every((a) => a === 'taken'));
      assert.ok(after.every((c) => c === 24), 'the hazard this guards against: each minute counted twice');
    }
  });
}

test('a new numbering (the agent lost its spool) is not matched against the old one\'s folded runs', () => {
  const dir = tempDir('hw-fold-');
  const first = manager(dir);
  first.acks.hello('a1', 'epoch-1');
  for (let s = 0; s < 24; s++) first.report(s);
  first.history.flush();
  const next = manager(dir);
  next.acks.hello('a1', 'epoch-2');
  assert.is(next.acks.receive('a1', 3), 'new');
  const kept = new FoldedRuns(join(dir, 'history', 'folded'));
  assert.equal(kept.load('a1'), { epoch: 'epoch-1', runs: [[0, 23]] });
  next.acks.forget('a1');
  assert.is(kept.load('a1'), undefined, 'a revoked agent\'s file goes');
});

test.run();
