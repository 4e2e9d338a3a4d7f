// The report's `containerUsage` field: taken as sent within its bounds (null stays null),
// BAD_MESSAGE naming the field otherwise; a report without it (an older agent) has none.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAgentMessage } from '../../common/wire/messages.ts';
import { CONTAINER_USAGE_ROWS_MAX } from '../../common/wire/container-usage.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('wire/container-usage');
const j = (v: unknown) => Buffer.from(JSON.stringify(v));
const METRICS = {
  cpuPercent: 12.5, memPercent: 40, diskPercent: 71, netRxBytes: 1000, netTxBytes: 2000, uptimeSeconds: 3600,
  processCount: 123, memTotalBytes: 8e9, memAvailableBytes: 4e9,
};
const ROW = {
  name: 'web', state: 'running', health: 'healthy', cpuPercent: 99.5, memUsedBytes: 5e6, memLimitBytes: null,
  netRxRate: 10, netTxRate: null, blockReadRate: 0, blockWriteRate: 4096,
};
const OTHER = { count: 2, cpuPercent: 1, memUsedBytes: 9, netRxRate: null, netTxRate: null, blockReadRate: null, blockWriteRate: null };
const report = (containerUsage: unknown) => ({ type: 'report', at: 1000, metrics: METRICS, seq: 3, containerUsage });

test('taken as sent, nulls kept', () => {
  const r = parseAgentMessage(j(report({ total: 3, rows: [ROW], other: OTHER })));
  assert.equal(r.type === 'report' ? r.containerUsage : null, { total: 3, rows: [ROW], other: OTHER });
});

test('a report without it (an older agent) has none', () => {
  const r = parseAgentMessage(j({ type: 'report', at: 1000, metrics: METRICS }));
  assert.ok(r.type === 'report' && r.containerUsage === undefined);
});

test('bad input: BAD_MESSAGE', () => {
  const bad = [
    'nope', { rows: [] }, { total: -1, rows: [] }, { total: 1, rows: 'x' }, { total: 1, rows: [{ ...ROW, name: 5 }] },
    { total: 1, rows: [{ ...ROW, cpuPercent: -3 }] }, { total: 1, rows: [{ ...ROW, memUsedBytes: 'lots' }] },
    { total: 1, rows: [{ ...ROW, name: 'x'.repeat(129) }] }, { total: 1, rows: [{ ...ROW, state: 'r'.repeat(21) }] },
    { total: 1, rows: Array.from({ length: CONTAINER_USAGE_ROWS_MAX + 1 }, () => ROW) }, { total: 1, rows: [], other: { count: 'two' } },
    { total: 1, rows: [ROW, 7] },
  ];
  for (const b of bad) assert.is(codeOf(() => parseAgentMessage(j(report(b)))), 'BAD_MESSAGE', JSON.stringify(b).slice(0, 80));
});

test.run();
