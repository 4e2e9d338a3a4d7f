import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseTier, checkMetric } from '../../common/history/query.ts';
import { codeOf } from '../harness.helper.ts';

const H = 3600_000;
const D = 24 * H;
const tiers = [
  { name: 'raw', step: 5000, slots: D / 5000 },
  { name: '1m', step: 60_000, slots: 14 * D / 60_000 },
  { name: '5m', step: 300_000, slots: 14 * D / 300_000 },
  { name: '1h', step: H, slots: 366 * 24 },
];
const now = 1_800_000_000_000;

test('the finest tier for short ranges, never finer than the answer needs', () => {
  assert.is(chooseTier(tiers, now, { from: now - 10 * 60_000, to: now, points: 1000 }).name, 'raw');
  assert.is(chooseTier(tiers, now, { from: now - 6 * H, to: now, points: 1000 }).name, 'raw');
  assert.is(chooseTier(tiers, now, { from: now - 6 * H, to: now, points: 100 }).name, '1m', '216 s a point: minutes are enough');
  assert.is(chooseTier(tiers, now, { from: now - D, to: now, points: 200 }).name, '5m');
  assert.is(chooseTier(tiers, now, { from: now - 2 * D, to: now, points: 5000 }).name, '1m', 'raw does not reach two days back');
  assert.is(chooseTier(tiers, now, { from: now - 7 * D, to: now, points: 200 }).name, '5m');
  assert.is(chooseTier(tiers, now, { from: now - 30 * D, to: now, points: 200 }).name, '1h', 'only hours reach 30 days back');
  assert.is(chooseTier(tiers, now, { from: 0, to: now, points: 200 }).name, '1h', 'beyond every tier: the longest');
});

test('metric names: headline fields and per-mount / per-interface series; others BAD_ARGS', () => {
  assert.is(checkMetric('cpuPercent'), 'cpuPercent');
  assert.is(checkMetric('mount:/var:usedPercent'), 'mount:/var:usedPercent');
  assert.is(checkMetric('if:eth0:rxRate'), 'if:eth0:rxRate');
  assert.is(codeOf(() => checkMetric('nope')), 'BAD_ARGS');
  assert.is(codeOf(() => checkMetric('if:eth0:usedBytes')), 'BAD_ARGS');
});

test.run();
