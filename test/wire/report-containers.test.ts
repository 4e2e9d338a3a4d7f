// A live report's containers (the containers feature): each field checked, the list bounded.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAgentMessage } from '../../common/wire/messages.ts';
import { REPORT_CONTAINERS_MAX, toContainerSamples } from '../../common/collect/containers/sample.ts';
import type { ContainerRow } from '../../common/collect/containers/types.ts';
import { codeOf } from '../harness.helper.ts';

const test = suite('wire/report-containers');
const j = (v: unknown) => Buffer.from(JSON.stringify(v));
const C = { name: 'web', image: 'nginx:1', state: 'running', health: 'healthy', restartCount: 2, cpuPercent: 12.5, memUsedBytes: 1e6 };
const report = (containers: unknown) => j({ type: 'report', at: 1, metrics: { cpuPercent: 1 }, containers });

test('a report with containers is read with each field; an older report has none', () => {
  const r = parseAgentMessage(report([C, { ...C, name: 'db', health: null, restartCount: null, cpuPercent: null, memUsedBytes: null }]));
  assert.ok(r.type === 'report' && r.containers?.length === 2);
  if (r.type !== 'report') return;
  assert.equal(r.containers![0], C);
  assert.is(r.containers![1]!.health, null);
  const old = parseAgentMessage(j({ type: 'report', at: 1, metrics: { cpuPercent: 1 } }));
  assert.ok(old.type === 'report' && old.containers === undefined);
});

test('a bad container or too many is BAD_MESSAGE', () => {
  for (const bad of ['x', [1], [{ ...C, name: 5 }], [{ ...C, name: 'n'.repeat(129) }], [{ ...C, restartCount: -1 }], [{ ...C, cpuPercent: 'hi' }], Array(REPORT_CONTAINERS_MAX + 1).fill(C)]) {
    assert.is(codeOf(() => parseAgentMessage(report(bad))), 'BAD_MESSAGE', JSON.stringify(bad).slice(0, 80));
  }
});

test('the report keeps running containers first, the busiest first, at most the cap', () => {
  const row = (name: string, state: string, cpu: number | null): ContainerRow => ({
    id: name, name, image: 'i', state, status: '', health: null, restartCount: 0, startedAt: null, cpuPercent: cpu, memUsedBytes: null,
    memLimitBytes: null, netRxBytes: null, netTxBytes: null, blockReadBytes: null, blockWriteBytes: null,
  });
  const rows = [row('stopped', 'exited', null), row('idle', 'running', 0), row('busy', 'running', 90), ...Array.from({ length: 80 }, (_, i) => row(`s${i}`, 'exited', null))];
  const s = toContainerSamples(rows);
  assert.is(s.length, REPORT_CONTAINERS_MAX);
  assert.equal(s.slice(0, 2).map((c) => c.name), ['busy', 'idle']);
});

test.run();
