// acked-samples, negotiated in hello and welcome: with a manager that names it, a sample stays in the
// agent's spool until a samples-ack covers it and the backfill keeps to the window; with an older
// manager (one that does not name it) a sample leaves the spool once sent, as before; an older
// agent (one that does not name it) reports to a new manager as before, unacknowledged.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FEATURES, type Report } from '../../common/wire/messages.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { apiJson } from './procs.helper.ts';
import { drivenDeps, serveTest, testAgent, cleanupAfterEach } from './inproc.helper.ts';
import { wireManager } from './wire-manager.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('a manager that names acked-samples: each sample kept on disk until acknowledged, the backfill within the window', timed(30_000, async () => {
  const wm = await wireManager({ features: [FEATURES.signedAcks, FEATURES.ackedSamples] });
  closers.push(() => wm.close());
  const stateDir = tempDir('hw-agent-');
  const agent = await testAgent(wm, drivenDeps(), { name: 'acked', stateDir, intervalS: 1 });
  agents.push(agent);
  const reports = () => wm.messages.filter((m): m is Report => m.type === 'report');
  const hello = await waitFor(() => wm.messages.find((m) => m.type === 'hello'), 5000, 'hello');
  assert.ok(hello.type === 'hello' && hello.features?.includes(FEATURES.ackedSamples) && hello.sampleEpoch, 'named, with its numbering');
  await waitFor(() => reports().length >= 3, 10_000, 'three reports');
  assert.equal(reports().slice(0, 3).map((r) => r.seq), [0, 1, 2], 'numbered from 0');
  assert.ok(agent.backlogSize() >= 3, 'none forgotten before an ack');
  assert.ok(readdirSync(join(stateDir, 'spool')).some((f) => f.endsWith('.jsonl')), 'kept in the spool on disk');
  const upTo = reports().at(-1)!.seq!;
  wm.peer()!.post({ type: 'samples-ack', ranges: [[0, upTo]] });
  await waitFor(() => agent.sampleFigures().unacked <= agent.sampleFigures().taken - upTo - 1, 5000, 'acknowledged ones forgotten');
  assert.is(agent.sampleFigures().lost, 0);
}));

test('an older manager (no acked-samples): a sample leaves the spool once sent, reports as before', timed(30_000, async () => {
  const wm = await wireManager();
  closers.push(() => wm.close());
  const agent = await testAgent(wm, drivenDeps(), { name: 'old-manager', intervalS: 1 });
  agents.push(agent);
  await waitFor(() => wm.messages.filter((m) => m.type === 'report').length >= 3, 10_000, 'three reports');
  assert.is(agent.backlogSize(), 0, 'nothing waits for an ack that will never come');
  assert.is(agent.sampleFigures().acknowledged, false);
}));

test('an older agent (no acked-samples) reports to a new manager as before: history kept, nothing acknowledged', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const agent = await testAgent(s, drivenDeps(), { name: 'old-agent', intervalS: 1, ackedSamples: false });
  agents.push(agent);
  await waitFor(() => s.manager.history.counters.samples >= 3, 10_000, 'three samples taken');
  assert.is(agent.backlogSize(), 0);
  assert.is(agent.sampleFigures().acknowledged, false);
  const stats = await apiJson<any>(s.dataDir, '/api/stats');
  assert.is(stats.samples.awaitingAck, 0, 'no numbered samples from it');
  assert.ok(stats.reportsIngested >= 3);
}));

test.run();
