// CPU_HIGH after `forSamples` samples all above the threshold; CPU_NORMAL only after as many all
// below threshold - hysteresis; a missing sample restarts the window; the value is the window mean.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CPU_HYSTERESIS } from '../../common/constants.ts';
import { CpuAlertMonitor, type CpuAlertDecision } from '../../common/agent/cpu-alert.ts';

const test = suite('agent/cpu-alert');

/** Feeds samples; returns the decisions with the index of the sample that made each. */
function feed(m: CpuAlertMonitor, samples: (number | null)[]): [number, CpuAlertDecision][] {
  const out: [number, CpuAlertDecision][] = [];
  samples.forEach((s, i) => {
    const d = m.push(s);
    if (d) out.push([i, d]);
  });
  return out;
}

test('CPU_HIGH only once forSamples consecutive samples are all above the threshold', () => {
  const m = new CpuAlertMonitor({ threshold: 80, forSamples: 3 });
  assert.equal(feed(m, [90, 95]), []);
  assert.not.ok(m.high);
  assert.equal(m.push(91), { alert: 'CPU_HIGH', value: 92, threshold: 80 });
  assert.ok(m.high);
  // Staying high does not repeat the alert.
  assert.equal(feed(m, [99, 99, 99, 99]), []);
});

test('one sample at or below the threshold in the window prevents CPU_HIGH', () => {
  const m = new CpuAlertMonitor({ threshold: 80, forSamples: 3 });
  // 80 is not above 80.
  assert.equal(feed(m, [90, 80, 90, 90]), []);
  // The fifth makes the last three all above.
  assert.equal(m.push(85)?.alert, 'CPU_HIGH');
});

test('value is the mean of the deciding window, one decimal', () => {
  const m = new CpuAlertMonitor({ threshold: 50, forSamples: 3 });
  assert.equal(feed(m, [10, 60, 70, 81]), [[3, { alert: 'CPU_HIGH', value: 70.3, threshold: 50 }]]);
  const n = feed(m, [40, 30, 20]);
  assert.equal(n, [[2, { alert: 'CPU_NORMAL', value: 30, threshold: 50 }]]);
});

test('hovering 79-81 around 80 after a high does not flap', () => {
  const m = new CpuAlertMonitor({ threshold: 80, forSamples: 3 });
  assert.equal(feed(m, [95, 95, 95]).map(([, d]) => d.alert), ['CPU_HIGH']);
  const hover = Array.from({ length: 60 }, (_, i) => [79, 81, 80, 79.5, 80.5][i % 5]!);
  assert.equal(feed(m, hover), []);
  assert.ok(m.high);
  // Just above threshold - hysteresis is still not normal.
  assert.equal(feed(m, [80 - CPU_HYSTERESIS, 80 - CPU_HYSTERESIS, 80 - CPU_HYSTERESIS]), []);
  // Below it for forSamples samples: normal, once.
  assert.equal(feed(m, [74, 70, 74.9]).map(([i, d]) => [i, d.alert]), [[2, 'CPU_NORMAL']]);
  assert.not.ok(m.high);
  assert.equal(feed(m, [10, 10, 10, 10]), []);
});

test('a short dip below the low mark does not end the high state', () => {
  const m = new CpuAlertMonitor({ threshold: 80, forSamples: 3, hysteresis: 10 });
  feed(m, [90, 90, 90]);
  assert.equal(feed(m, [60, 60, 75, 60, 60, 95]), []);
  assert.ok(m.high);
});

test('without a prior high, low samples never send CPU_NORMAL', () => {
  const m = new CpuAlertMonitor({ threshold: 80, forSamples: 2 });
  assert.equal(feed(m, [1, 2, 3, 4, 5, 6]), []);
});

test('a null sample restarts the window, going up and coming down', () => {
  const m = new CpuAlertMonitor({ threshold: 80, forSamples: 3 });
  assert.equal(feed(m, [90, 90, null, 90, 90]), []);
  assert.equal(m.push(90)?.alert, 'CPU_HIGH');
  assert.equal(feed(m, [10, 10, null, 10, 10]), []);
  assert.ok(m.high);
  assert.equal(m.push(10)?.alert, 'CPU_NORMAL');
});

test('forSamples is rounded and at least 1; hysteresis option is honoured', () => {
  const one = new CpuAlertMonitor({ threshold: 50, forSamples: 0 });
  assert.equal(one.push(51), { alert: 'CPU_HIGH', value: 51, threshold: 50 });
  assert.equal(one.push(44.9), { alert: 'CPU_NORMAL', value: 44.9, threshold: 50 });
  const two = new CpuAlertMonitor({ threshold: 50, forSamples: 1.6, hysteresis: 0 });
  assert.is(two.push(60), null);
  assert.is(two.push(60)?.alert, 'CPU_HIGH');
  assert.is(two.push(49.9), null);
  assert.is(two.push(49.9)?.alert, 'CPU_NORMAL');
});

test.run();
