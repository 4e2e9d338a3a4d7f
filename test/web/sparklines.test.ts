// GET /api/sparklines on a real history store: a host shows from its first samples (the minute under
// way, not yet rolled up, is the last point, from its raw samples), and closed minutes keep their
// roll-ups.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HistoryStore } from '../../common/history/store.ts';
import { ManagerState } from '../../common/manager/state.ts';
import { sparklines } from '../../common/web/sparklines.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const M = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const metrics = (cpu: number) => ({ cpuPercent: cpu, memPercent: 30, diskPercent: 40, netRxBytes: 1, netTxBytes: 2, uptimeSeconds: 3, processCount: 4 });

function setup(now: () => number): { state: ManagerState; history: HistoryStore } {
  const history = new HistoryStore({ dir: tempDir('hw-spark-'), now, timer: false });
  const state = new ManagerState({ history, now });
  state.agentUp({ id: 'a1', name: 'a1', hostname: 'a1', address: '127.0.0.1', platform: 'linux', arch: 'x64', version: '0.1.0', interval: 5, restartAllowed: false, filesEnabled: true, trust: 'accepted', fingerprint: 'f' });
  return { state, history };
}

const query = new URLSearchParams('minutes=60&points=60');

test('an agent 20 s old: the last point is the mean of its samples so far', () => {
  let t = T0 + 20_000;
  const { state, history } = setup(() => t);
  for (const [dt, cpu] of [[0, 10], [5_000, 20], [10_000, 30], [15_000, 40]] as const) state.report('a1', metrics(cpu), [], T0 + dt);
  const s = (sparklines(state, query, t) as { agents: Record<string, (number | null)[]> }).agents.a1!;
  assert.is(s.length, 60);
  assert.is(s[59], 25);
  assert.ok(s.slice(0, 59).every((v) => v === null), 'nothing before its first minute');
  history.close();
});

test('minutes closed are rolled up; the minute under way follows its own samples', () => {
  let t = T0;
  const { state, history } = setup(() => t);
  for (let at = T0; at < T0 + 2 * M + 30_000; at += 5_000) {
    t = at;
    state.report('a1', metrics(at < T0 + M ? 10 : at < T0 + 2 * M ? 50 : 90), [], at);
  }
  const s = (sparklines(state, query, t + 1000) as { agents: Record<string, (number | null)[]> }).agents.a1!;
  assert.is(s[59], 90, 'the open minute');
  assert.equal(s.filter((v) => v !== null).sort(), [10, 50, 90]);
  history.close();
});

test.run();
