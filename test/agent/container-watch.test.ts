import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerWatch } from '../../common/agent/container-watch.ts';
import { HwError } from '../../common/errors.ts';
import type { ContainersResult } from '../../common/collect/containers/types.ts';

const test = suite('agent/container-watch');
const tick = () => new Promise((r) => setImmediate(r));
const result = (name: string): ContainersResult => ({
  engine: { socket: '/s', from: 'DOCKER_HOST' }, total: 1, notInspected: 0, cpuWindowMs: null,
  containers: [{ id: 'a', name, image: 'i', state: 'running', status: 'Up', health: null, restartCount: 0, startedAt: null, cpuPercent: 1, memUsedBytes: 5,
    memLimitBytes: 9, netRxBytes: 0, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0 }],
});

test('asks in the background, at most every everyMs, one ask at a time; a report takes what is there', async () => {
  let t = 0;
  let calls = 0;
  let answer: ContainersResult | Error = result('web');
  const w = new ContainerWatch({ engine: { list: async () => { calls++; if (answer instanceof Error) throw answer; return answer; } }, everyMs: 10_000, idleMs: 60_000, now: () => t });
  assert.is(w.current(), undefined, 'nothing read yet: the report does not wait');
  assert.is(w.current(), undefined);
  assert.is(calls, 1, 'one ask in flight at a time');
  await tick();
  assert.is(w.current()![0]!.name, 'web');
  t = 9_999;
  w.current();
  assert.is(calls, 1, 'not again before everyMs');
  t = 10_000;
  answer = new HwError('ENGINE_UNREACHABLE', 'gone');
  w.current();
  await tick();
  assert.is(calls, 2);
  assert.is(w.current(), undefined, 'no engine: nothing, not an empty list');
  t = 69_999;
  w.current();
  assert.is(calls, 2, 'a minute between asks while there is no engine');
  t = 70_000;
  answer = result('db');
  w.current();
  await tick();
  assert.is(w.current()![0]!.name, 'db');
});

test.run();
