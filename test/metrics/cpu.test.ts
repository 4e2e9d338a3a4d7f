import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { busyPercent, CpuMeter, readCpuTimes, type CpuTimes } from '../../common/metrics/cpu.ts';
import { timed } from '../harness.helper.ts';

const test = suite('metrics/cpu');

test('busy percent is 1 - idle share of the elapsed time, one decimal', () => {
  assert.equal(busyPercent({ idle: 100, total: 200 }, { idle: 175, total: 300 }), { percent: 25 });
  assert.equal(busyPercent({ idle: 0, total: 0 }, { idle: 2, total: 3 }), { percent: 33.3 });
  assert.equal(busyPercent({ idle: 5, total: 10 }, { idle: 5, total: 20 }), { percent: 100 });
});

test('no elapsed time or backwards counters: null with a reason, never 0', () => {
  const same = busyPercent({ idle: 5, total: 10 }, { idle: 5, total: 10 });
  assert.is(same.percent, null);
  assert.ok(same.tooSoon);
  const back = busyPercent({ idle: 50, total: 100 }, { idle: 40, total: 90 });
  assert.is(back.percent, null);
  assert.match(back.reason!, 'backwards');
});

test('meter: baseline at construction, kept when nothing elapsed, each meter its own window', () => {
  const readings: CpuTimes[] = [{ idle: 0, total: 0 }, { idle: 50, total: 100 }, { idle: 50, total: 100 }, { idle: 60, total: 200 }];
  let i = 0;
  const meter = new CpuMeter({ read: () => readings[i++]! });
  assert.equal(meter.measure(), { percent: 50 });
  assert.is(meter.measure().percent, null); // same reading: baseline kept
  assert.equal(meter.measure(), { percent: 90 }); // measured from the kept baseline

  let j = 0;
  const other = new CpuMeter({ read: () => ({ idle: j * 10, total: j++ * 10 }) });
  assert.equal(other.measure(), { percent: 0 });
});

test('meter: read failure is a reason, and the next success still works', () => {
  let fail = true;
  const meter = new CpuMeter({
    read: () => {
      if (fail) throw new Error('cannot read /proc/stat: ENOENT');
      return { idle: 10, total: 20 };
    },
  });
  assert.equal(meter.measure(), { percent: null, reason: 'cannot read /proc/stat: ENOENT' });
  fail = false;
  assert.is(meter.measure().percent, null); // first real reading: only a baseline
});

test('real CPU: a busy loop shows up as busy time', timed(5000, async () => {
  const meter = new CpuMeter();
  const end = Date.now() + 300;
  while (Date.now() < end); // keep one core busy
  const r = meter.measure();
  assert.ok(r.percent !== null, r.reason);
  const cores = (await import('node:os')).cpus().length;
  // One of `cores` cores was busy the whole time; allow for scheduling noise.
  assert.ok(r.percent! >= (100 / cores) * 0.6 && r.percent! <= 100, `busy ${r.percent}% on ${cores} cores`);
}));

test('os.cpus() path (other platforms) gives increasing totals', () => {
  const a = readCpuTimes('darwin');
  const end = Date.now() + 50;
  while (Date.now() < end);
  const b = readCpuTimes('darwin');
  assert.ok(b.total > a.total && b.idle >= a.idle);
});

test.run();
