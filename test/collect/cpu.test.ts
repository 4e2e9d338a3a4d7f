import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { busyPercent, CpuMeter, readCpuTimes, SharedCpuTimes, type CpuTimes } from '../../common/collect/cpu.ts';
import { HwError } from '../../common/errors.ts';
import { timed } from '../harness.helper.ts';

const test = suite('collect/cpu');

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

test('shared readings: meters asking in one tick get one reading, each keeps its own window', () => {
  let reads = 0;
  let now = 0;
  const src = new SharedCpuTimes({ read: () => ({ idle: ++reads * 5, total: reads * 10 }), now: () => now, maxAgeMs: 50 });
  const sampler = new CpuMeter({ read: () => src.read() }); // reading 1
  now = 1000;
  const report = new CpuMeter({ read: () => src.read() }); // reading 2
  assert.is(reads, 2);
  now = 2000;
  assert.equal(sampler.measure(), { percent: 50 }); // reading 3, window 1..3
  now = 2010;
  assert.equal(report.measure(), { percent: 50 }); // same tick: reading 3 again, window 2..3
  assert.is(reads, 3);
  now = 2100;
  assert.is(sampler.measure().percent, 50); // a later tick reads again
  assert.is(reads, 4);
});

test('shared readings: a failed read is not kept, the next one reads again', () => {
  let fail = true;
  let reads = 0;
  const src = new SharedCpuTimes({ read: () => { reads++; if (fail) throw new HwError('UNAVAILABLE', 'cannot read x'); return { idle: 1, total: 2 }; }, now: () => 0 });
  assert.throws(() => src.read(), /cannot read x/);
  fail = false;
  assert.equal(src.read(), { idle: 1, total: 2 });
  assert.is(reads, 2);
});

test('real /proc/stat through the shared source: a busy loop shows up', () => {
  if (process.platform !== 'linux') return;
  const src = new SharedCpuTimes({ maxAgeMs: 0 });
  const meter = new CpuMeter({ read: () => src.read() });
  const end = Date.now() + 200;
  while (Date.now() < end);
  const r = meter.measure();
  assert.ok(r.percent !== null && r.percent > 0, JSON.stringify(r));
  src.close();
});

test.run();
