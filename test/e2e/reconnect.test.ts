// The agent reconnects by itself: after the manager stops and starts again on the same port, the
// same agent (same id) is back online, without anyone touching it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { BACK_AFTER_RESTART_MS, cliJson, killAll, startAgent, startManager, waitOnline } from './procs.helper.ts';

test.after(async () => {
  await killAll();
  cleanTempDirs();
});

test('agent comes back after a manager restart, with the same id', timed(BACK_AFTER_RESTART_MS + 60_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  const m1 = await startManager([], dataDir);
  const agent = startAgent(m1, ['--name', 'phoenix']);
  const first = await waitOnline(dataDir, 'phoenix');
  assert.is(await m1.kill('SIGTERM'), 0, 'manager exits 0 on SIGTERM');
  await waitFor(() => /disconnected from/.test(agent.output()), 5000, 'agent noticed');
  // A failed attempt while the manager is down (waited for: a loaded machine may make none in a fixed wait).
  await waitFor(() => /retrying in/.test(agent.output()), 10_000, 'a failed attempt while the manager is down');
  const m2 = await startManager(['--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)], dataDir);
  // The agent may be anywhere in its backoff (up to the cap) when the manager is back.
  const back = await waitOnline(dataDir, 'phoenix', BACK_AFTER_RESTART_MS, agent, m2);
  assert.is(back.id, first.id, 'same identity');
  const list = await cliJson<any[]>(dataDir, ['agents']);
  assert.is(list.filter((a) => a.name === 'phoenix').length, 1, 'one record, not two');
  assert.match(agent.output(), /retrying in/);
  await m2.kill();
}));

test.run();
