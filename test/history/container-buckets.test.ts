// A long span of container records summarised into periods: the means, the state and health seen
// worst (a stop is not averaged away), the last limit, the most containers; short spans untouched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bucketRecords } from '../../common/history/container-buckets.ts';
import type { ContainerRecord } from '../../common/history/container-log.ts';
import type { ContainerUsageRow } from '../../common/wire/container-usage.ts';

const T0 = Date.UTC(2026, 11, 1);
const M = 60_000;
const row = (name: string, cpu: number | null, o: Partial<ContainerUsageRow> = {}): ContainerUsageRow => ({
  name, state: 'running', health: 'healthy', cpuPercent: cpu, memUsedBytes: 100, memLimitBytes: 1000, netRxRate: null, netTxRate: 10, blockReadRate: null, blockWriteRate: null, ...o,
});
const none = { netRxRate: null, netTxRate: null, blockReadRate: null, blockWriteRate: null };

test('a span that fits is answered as it is', () => {
  const recs: ContainerRecord[] = [{ at: T0, total: 1, rows: [row('a', 5)] }, { at: T0 + M, total: 1, rows: [row('a', 7)] }];
  const b = bucketRecords(recs, 1440);
  assert.is(b.stepMs, null);
  assert.equal(b.records, recs);
});

test('a week at one a minute: at most 1440 points in whole minutes over the whole week; means, worst state and health, last limit, most containers', () => {
  const recs: ContainerRecord[] = [];
  for (let i = 0; i < 7 * 1440; i++) {
    const stopped = i === 5000;
    recs.push({
      at: T0 + i * M, total: i === 5001 ? 9 : 2,
      rows: [
        row('web', stopped ? 0 : i % 2 ? 10 : 30, { state: stopped ? 'exited' : 'running', memLimitBytes: i >= 5002 ? 2000 : 1000, health: i === 7000 ? 'unhealthy' : 'healthy' }),
        ...(i % 3 === 0 ? [row('cron', 50)] : []),
      ],
      other: { count: i === 9000 ? 4 : 1, cpuPercent: 1, memUsedBytes: 10, ...none },
    });
  }
  const b = bucketRecords(recs, 1440);
  assert.ok(b.stepMs !== null && b.stepMs % M === 0, `whole minutes: ${b.stepMs}`);
  assert.is(b.stepMs, 8 * M, 'ceil(10079 / 1439) minutes');
  assert.ok(b.records.length <= 1440 && b.records.length >= 1200, `${b.records.length} points`);
  assert.is(b.records[b.records.length - 1]!.at, recs[recs.length - 1]!.at, 'the newest record ends the last period');
  assert.is(b.records[0]!.at, T0 + 7 * M, 'the first period ends on its last record');
  const at = (i: number) => b.records.find((r) => r.at >= T0 + i * M)!;
  const web = (r: ContainerRecord) => r.rows.find((x) => x.name === 'web')!;
  assert.is(web(at(100)).cpuPercent, 20, 'the mean of 10 and 30');
  assert.is(web(at(5000)).state, 'exited', 'a stopped minute is not averaged away');
  assert.is(web(at(5200)).state, 'running');
  assert.is(web(at(7000)).health, 'unhealthy');
  assert.is(web(at(5000)).memLimitBytes, 2000, 'the last limit of the period');
  assert.is(web(at(100)).netRxRate, null, 'never reported: null, not 0');
  assert.is(web(at(100)).netTxRate, 10);
  assert.is(at(5001).total, 9, 'the most containers of the period');
  assert.is(at(9000).other!.count, 4);
  assert.is(at(100).rows.find((x) => x.name === 'cron')!.cpuPercent, 50, 'the mean of the records that named it');
});

test.run();
