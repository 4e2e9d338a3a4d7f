// The new agent's guard of its own probation (upgrade-probation.ts), on a clock of its own: nothing
// without a switch or for the old version; confirmed in time, nothing; past the deadline with the
// watcher gone, a rollback; with the watcher alive, B leaves it to the watcher for a grace time.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { guardProbation, WATCHER_GRACE_MS } from '../../common/agent/upgrade-probation.ts';
import { writeUpgradeState, type UpgradeState } from '../../common/agent/upgrade-switch.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

const test = suite('agent/upgrade-probation');
test.after.each(() => cleanTempDirs());

const T0 = 1_000_000;
function state(dir: string, extra: Partial<UpgradeState> = {}): void {
  writeUpgradeState(dir, { phase: 'probation', from: '0.1.0', to: '0.2.0', exe: '/x/agent', at: T0, deadline: T0 + 60_000, watcher: 424242, ...extra });
}

function guard(dir: string, version: string, clock: { t: number }, watcherAlive = false) {
  const calls: string[] = [];
  const g = guardProbation({ stateDir: dir, version, now: () => clock.t, alive: () => watcherAlive, pollMs: 5, rollback: (_s, reason) => void calls.push(reason) });
  return { g, calls };
}

test('no switch, or this is the old version: no guard', timed(5000, async () => {
  const dir = tempDir();
  const clock = { t: T0 + 120_000 };
  assert.equal(guard(dir, '0.2.0', clock).calls, []);
  state(dir);
  const old = guard(dir, '0.1.0', clock);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(old.calls, []);
}));

test('confirmed before the deadline: no rollback', timed(5000, async () => {
  const dir = tempDir();
  state(dir);
  const clock = { t: T0 + 1000 };
  const { calls } = guard(dir, '0.2.0', clock);
  state(dir, { phase: 'confirmed' });
  clock.t = T0 + 120_000;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(calls, []);
}));

test('past the deadline, the watcher gone: rolled back, once', timed(5000, async () => {
  const dir = tempDir();
  state(dir, { phase: 'switching' }); // killed before probation was written: the deadline is there already
  const clock = { t: T0 + 1000 };
  const { calls } = guard(dir, '0.2.0', clock);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(calls, []);
  clock.t = T0 + 60_000;
  await waitFor(() => calls.length > 0, 2000, 'rollback');
  await new Promise((r) => setTimeout(r, 30));
  assert.is(calls.length, 1);
  assert.match(calls[0]!, /not welcomed by .* and its watcher was gone/);
}));

test('the watcher alive: left to it until the grace time ends', timed(5000, async () => {
  const dir = tempDir();
  state(dir);
  const clock = { t: T0 + 59_000 };
  const { calls } = guard(dir, '0.2.0', clock, true);
  clock.t = T0 + 60_000;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(calls, []);
  clock.t = T0 + 60_000 + WATCHER_GRACE_MS;
  await waitFor(() => calls.length > 0, 2000, 'rollback');
  assert.match(calls[0]!, /its watcher did not act/);
}));

test('started after the deadline (the host was down): rolled back at once', timed(5000, async () => {
  const dir = tempDir();
  state(dir);
  const { calls } = guard(dir, '0.2.0', { t: T0 + 600_000 });
  assert.is(calls.length, 1);
  assert.match(calls[0]!, /started after its probation ended/);
}));

test.run();
