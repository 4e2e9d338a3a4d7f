// One grammar for durations and one for sizes: bare numbers, units, and the coded error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { durationMs, parseDuration, parseSize, sizeBytes } from '../../common/util/units.ts';
import { durationFlag, sizeFlag } from '../../common/cli/run.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite("util/units");
const seconds = (v: unknown) => {
  const r = parseDuration(v);
  return r.ok ? r.value : r.error;
};

test('a bare number is seconds, as a number or as text (what `--for 90` and `for: "90"` give)', () => {
  assert.equal([90, '90', ' 90 ', '1.5', '.5', 0].map(seconds), [90, 90, 90, 1.5, 0.5, 0]);
});

test('units ms s m h d w, combined, with or without spaces between number and unit', () => {
  assert.equal(['500ms', '30s', '10m', '2h', '1d', '1w', '1h30m', '1d 12h', '2 h', '1.5h'].map(seconds),
    [0.5, 30, 600, 7200, 86_400, 604_800, 5400, 129_600, 7200, 5400]);
});

test('anything else is refused with what is accepted', () => {
  for (const bad of ['', '-1', '-1s', '10x', '1h30', 'h', '1e3', '2 hours', '1M', 'Infinity', NaN, -3, null, true, {}]) {
    const r = parseDuration(bad);
    assert.is(r.ok, false, `${String(bad)} refused`);
    if (!r.ok) assert.match(r.error, 'a number of seconds, or 500ms');
  }
});

test('durationMs: milliseconds, or BAD_ARGS naming the flag', () => {
  assert.is(durationMs('90', '--for'), 90_000);
  assert.is(durationMs('2m', '--for'), 120_000);
  assert.is(codeOf(() => durationMs('soon', '--for')), 'BAD_ARGS');
  try {
    durationMs('soon', '--for');
  } catch (err) {
    assert.match((err as Error).message, /^--for: bad duration "soon"/);
  }
});

test('sizes: bytes, k/M/G/T as powers of 1024, KB/MB SI, KiB/MiB binary, any case', () => {
  const bytes = (v: unknown) => {
    const r = parseSize(v, { rate: false });
    return r.ok ? r.value : r.error;
  };
  assert.equal([1000, '1000', '64k', '64K', '32M', '1G', '1T', '1.5k', '500KB', '100MB', '1GiB', '10b'].map(bytes),
    [1000, 1000, 65_536, 65_536, 32 * 1024 ** 2, 1024 ** 3, 1024 ** 4, 1536, 500_000, 1e8, 1024 ** 3, 10]);
  for (const bad of ['lots', '-1', '1Gbit', '10MB/s', '1 2', '', null]) assert.is(parseSize(bad, { rate: false }).ok, false, `${String(bad)} refused as a size`);
});

test('rates (rule thresholds): bits and /s too', () => {
  const rate = (v: unknown) => {
    const r = parseSize(v);
    return r.ok ? r.value : r.error;
  };
  assert.equal(['1Gbit', '100Mbit/s', '10MB/s', '1M/s'].map(rate), [1.25e8, 1.25e7, 1e7, 1024 ** 2]);
});

test('sizeBytes: whole bytes, or BAD_ARGS', () => {
  assert.is(sizeBytes('1.5k', '--x'), 1536);
  assert.is(codeOf(() => sizeBytes('big', '--x')), 'BAD_ARGS');
});

test('flags: the same grammar, BAD_FLAG with the flag and the bounds', () => {
  assert.is(durationFlag('36h', '--retention-raw', 600_000, 30 * 86_400_000), 36 * 3_600_000);
  assert.is(durationFlag('3600', '--retention-raw', 600_000, 30 * 86_400_000), 3_600_000, 'a bare number is seconds');
  assert.is(codeOf(() => durationFlag('5m', '--retention-raw', 600_000, 30 * 86_400_000)), 'BAD_FLAG');
  try {
    durationFlag('5m', '--retention-raw', 600_000, 30 * 86_400_000);
  } catch (err) {
    assert.is((err as Error).message, '--retention-raw: "5m" must be from 10 min to 30 days');
  }
  assert.is(sizeFlag('32M', '--log-max-bytes', 65_536, 2 ** 40), 32 * 1024 ** 2);
  assert.is(sizeFlag(33_554_432, '--log-max-bytes', 65_536, 2 ** 40), 33_554_432);
  assert.is(codeOf(() => sizeFlag('1k', '--log-max-bytes', 65_536, 2 ** 40)), 'BAD_FLAG');
  assert.is(codeOf(() => sizeFlag('lots', '--log-max-bytes', 65_536, 2 ** 40)), 'BAD_FLAG');
});

test.run();
