// The agent on a full disk, for real: its --state-dir a small tmpfs filled to the last byte. CPU
// alerts raised meanwhile, with the manager up and while it is away, reach a real manager exactly
// once; nothing crashes or rejects unhandled; once space is back, alerts.json and the pin file
// catch up. Skipped (with the reason) where a tmpfs cannot be mounted.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';
import { mountTmpfs, noTmpfs, type Tmpfs } from './tmpfs.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => { unhandled.push(err); };
test.before(() => { process.on('unhandledRejection', onUnhandled); });
test.after(() => { process.off('unhandledRejection', onUnhandled); });

const mounts: Tmpfs[] = [];
test.after.each(async () => {
  for (const a of agents.splice(0)) await a.stop(); // nothing of the agent's left open on the mount
  for (const m of mounts.splice(0)) m.unmount();
});

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const alertSeqs = (dataDir: string, agentId: string) =>
  readEvents(dataDir).filter((e) => e.event === 'alert' && e.alert?.agentId === agentId).map((e) => e.alert.seq as number);

test('state folder full: alerts kept in memory, delivered once (manager up, then away), the file written once space is back', timed(60_000, async () => {
  const why = noTmpfs();
  if (why) return console.log(`  (skipped: ${why})`);
  const fs = mountTmpfs(128);
  mounts.push(fs);
  const s = await serveTest();
  closers.push(s.close);
  const deps = drivenDeps();
  const logs: string[] = [];
  const agent = await testAgent(s, deps, { name: 'fulldisk', stateDir: fs.dir, stateRetryMs: 100, log: (l) => logs.push(l) });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  const file = join(fs.dir, 'alerts.json');
  assert.equal(readJson(file), { epoch: agent.alertEpoch, nextSeq: 1, pending: [], dropped: 0 });
  assert.ok(existsSync(join(fs.dir, 'manager-pins.json')));
  const filled = fs.fill();
  assert.ok(filled > 0);

  // Three rounds of CPU_HIGH and CPU_NORMAL while the manager is up.
  for (let round = 1; round <= 3; round++) {
    deps.cpu = 95;
    await waitFor(() => alertSeqs(s.dataDir, agent.id).length === 2 * round - 1, 10_000, `CPU_HIGH ${round}`);
    deps.cpu = 5;
    await waitFor(() => alertSeqs(s.dataDir, agent.id).length === 2 * round, 10_000, `CPU_NORMAL ${round}`);
  }
  await waitFor(() => agent.pendingAlerts() === 0, 10_000, 'all acknowledged');
  assert.equal(readJson(file), { epoch: agent.alertEpoch, nextSeq: 1, pending: [], dropped: 0 }, 'the old file, untouched by the failed writes');

  // The manager goes away: two more, held in memory only.
  await s.close();
  closers.splice(closers.indexOf(s.close), 1);
  await waitFor(() => !agent.connected, 10_000, 'disconnected');
  deps.cpu = 95;
  await waitFor(() => agent.pendingAlerts() === 1, 10_000, 'CPU_HIGH held');
  deps.cpu = 5;
  await waitFor(() => agent.pendingAlerts() === 2, 10_000, 'CPU_NORMAL held');
  assert.is(readJson(file).nextSeq, 1, 'still not on disk');

  const s2 = await serveTest({ dataDir: s.dataDir, port: s.tcpPort, udpPort: s.udpPort });
  closers.push(s2.close);
  await waitFor(() => agent.pendingAlerts() === 0, 20_000, 'delivered after the manager came back');
  const seqs = alertSeqs(s.dataDir, agent.id);
  assert.equal(seqs, [1, 2, 3, 4, 5, 6, 7, 8], 'each alert exactly once, in order');
  assert.equal(s2.manager.state.alerts().filter((a) => a.agentId === agent.id).map((a) => a.seq), seqs);

  const failures = logs.filter((l) => /alerts\.json: ENOSPC/.test(l));
  assert.is(failures.length, 1, `one line for the failing writes, not one per retry:\n${logs.join('\n')}`);

  fs.free();
  await waitFor(() => readJson(file).nextSeq === 9, 5000, 'alerts.json caught up');
  assert.equal(readJson(file), { epoch: agent.alertEpoch, nextSeq: 9, pending: [], dropped: 0 });
  assert.ok(logs.some((l) => /wrote .*alerts\.json again/.test(l)), logs.join('\n'));
  assert.equal(unhandled, []);
}));

test('an agent started on a full state folder: pinned in memory, alerts delivered, both files written once space is back', timed(40_000, async () => {
  const why = noTmpfs();
  if (why) return console.log(`  (skipped: ${why})`);
  const fs = mountTmpfs(64);
  mounts.push(fs);
  fs.fill();
  const s = await serveTest();
  closers.push(s.close);
  const deps = drivenDeps();
  const logs: string[] = [];
  const agent = await testAgent(s, deps, { name: 'fullstart', stateDir: fs.dir, stateRetryMs: 100, log: (l) => logs.push(l) });
  agents.push(agent);
  await waitFor(() => agent.connected, 10_000, 'connected');
  assert.not.ok(existsSync(join(fs.dir, 'alerts.json')));
  assert.not.ok(existsSync(join(fs.dir, 'manager-pins.json')));
  deps.cpu = 95;
  await waitFor(() => alertSeqs(s.dataDir, agent.id).length === 1, 10_000, 'CPU_HIGH');
  await waitFor(() => agent.pendingAlerts() === 0, 10_000, 'acknowledged');
  fs.free();
  await waitFor(() => existsSync(join(fs.dir, 'alerts.json')) && existsSync(join(fs.dir, 'manager-pins.json')), 5000, 'files written');
  assert.equal(readJson(join(fs.dir, 'alerts.json')), { epoch: agent.alertEpoch, nextSeq: 2, pending: [], dropped: 0 });
  assert.equal(Object.values(readJson(join(fs.dir, 'manager-pins.json'))).length, 1);
  assert.equal(alertSeqs(s.dataDir, agent.id), [1]);
  assert.equal(unhandled, []);
}));

test('stopping with alerts the full disk never took says they are lost', timed(30_000, async () => {
  const why = noTmpfs();
  if (why) return console.log(`  (skipped: ${why})`);
  const fs = mountTmpfs(64);
  mounts.push(fs);
  const deps = drivenDeps();
  const logs: string[] = [];
  // No manager at all: the alert can only wait in the queue.
  const agent = await testAgent({ tcpPort: 1, udpPort: 1 }, deps, { name: 'lost', stateDir: fs.dir, stateRetryMs: 100, log: (l) => logs.push(l) });
  agents.push(agent);
  fs.fill();
  deps.cpu = 95;
  await waitFor(() => agent.pendingAlerts() === 1, 10_000, 'CPU_HIGH queued');
  await agent.stop();
  assert.ok(logs.some((l) => /stopping with 1 unacknowledged alert that the state folder could not take: lost with this stop/.test(l)), logs.join('\n'));
  assert.equal(readJson(join(fs.dir, 'alerts.json')).pending, [], 'the file holds what it held before');
  assert.equal(unhandled, []);
}));

test.run();
