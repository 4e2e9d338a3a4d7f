// The report's `processes` field: taken when within its bounds, BAD_MESSAGE otherwise; a report
// without it (an older agent) and a report with fields a manager does not know (as an older
// manager sees `processes`) still parse.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAgentMessage } from '../../common/wire/messages.ts';
import { PROCESS_COMMAND_MAX, PROCESS_ROWS_MAX } from '../../common/wire/processes.ts';
import type { ProcessRow } from '../../common/collect/types.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('wire/processes');

const j = (v: unknown) => Buffer.from(JSON.stringify(v));
const METRICS = {
  cpuPercent: 12.5, memPercent: 40, diskPercent: 71, netRxBytes: 1000, netTxBytes: 2000, uptimeSeconds: 3600,
  processCount: 123, memTotalBytes: 8e9, memAvailableBytes: 4e9,
};
const ROW: ProcessRow = {
  pid: 4242, name: 'burner', user: 'www', command: '/usr/bin/burner --hot', cpuPercent: 97.5, memBytes: 5e8,
  ioBytesPerSec: null, state: 'R', startedAt: 1_700_000_000_000,
};
const report = (processes: unknown) => ({ type: 'report', at: 1000, metrics: METRICS, seq: 3, processes });

test('a report with processes carries both lists as sent', () => {
  const r = parseAgentMessage(j(report({ byCpu: [ROW], byMem: [{ ...ROW, user: null, command: null, cpuPercent: null }] })));
  assert.ok(r.type === 'report');
  if (r.type !== 'report') return;
  assert.equal(r.processes?.byCpu, [ROW]);
  assert.is(r.processes?.byMem[0]?.user, null);
  assert.is(r.processes?.byMem[0]?.cpuPercent, null);
});

test('empty lists are taken', () => {
  const r = parseAgentMessage(j(report({ byCpu: [], byMem: [] })));
  assert.equal(r.type === 'report' ? r.processes : null, { byCpu: [], byMem: [] });
});

test('a report without processes (an older agent) has none', () => {
  const r = parseAgentMessage(j({ type: 'report', at: 1000, metrics: METRICS }));
  assert.ok(r.type === 'report' && r.processes === undefined);
});

test('a field the manager does not know is ignored, as an older manager ignores processes', () => {
  const r = parseAgentMessage(j({ type: 'report', at: 1000, metrics: METRICS, seq: 1, fromTheFuture: { byCpu: [ROW] } }));
  assert.ok(r.type === 'report');
  assert.is((r as unknown as Record<string, unknown>).fromTheFuture, undefined);
});

test('out of bounds or of the wrong type is BAD_MESSAGE', () => {
  const code = (p: unknown) => codeOf(() => parseAgentMessage(j(report(p))));
  const many = Array.from({ length: PROCESS_ROWS_MAX + 1 }, () => ROW);
  assert.is(code({ byCpu: many, byMem: [] }), 'BAD_MESSAGE');
  assert.is(code({ byCpu: [], byMem: [{ ...ROW, command: 'x'.repeat(PROCESS_COMMAND_MAX + 1) }] }), 'BAD_MESSAGE');
  assert.is(code({ byCpu: [{ ...ROW, cpuPercent: '97' }], byMem: [] }), 'BAD_MESSAGE');
  assert.is(code({ byCpu: [{ ...ROW, pid: -1 }], byMem: [] }), 'BAD_MESSAGE');
  assert.is(code({ byCpu: [{ ...ROW, name: 7 }], byMem: [] }), 'BAD_MESSAGE');
  assert.is(code({ byCpu: ['x'], byMem: [] }), 'BAD_MESSAGE');
  assert.is(code({ byCpu: [] }), 'BAD_MESSAGE');
  assert.is(code([ROW]), 'BAD_MESSAGE');
});

test.run();
