// The registry is agents.json: every enrolled agent is listed after a restart whatever became of
// events.jsonl, and goes AGENT_DOWN if it does not come back; a corrupt agents.json stops the
// manager with the file's name and the fix. After a restart an agent that came back and died is
// down after its own silence, not the start grace. `accept` of an accepted agent changes nothing.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli, cliJson, run, MANAGER_JS } from './procs.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

test('every enrolled agent is listed after a restart with events.jsonl gone; AGENT_DOWN once the grace is over', timed(30_000, async () => {
  const s1 = await serveTest();
  const a = await testAgent(s1, drivenDeps(), { name: 'old-timer' });
  await waitFor(() => s1.manager.state.agents().find((x) => x.name === 'old-timer')?.metrics, 10_000, 'reporting');
  await a.stop();
  await s1.close();
  for (const f of readdirSync(s1.dataDir)) if (f.startsWith('events.jsonl')) rmSync(join(s1.dataDir, f));
  const s2 = await serveTest({ dataDir: s1.dataDir, startGraceMs: 1000 });
  closers.push(s2.close);
  const listed = await cliJson<any[]>(s2.dataDir, ['agents']);
  const rec = listed.find((x) => x.name === 'old-timer');
  assert.ok(rec, 'listed from agents.json');
  assert.is(rec.online, false);
  assert.is(rec.platform, process.platform, 'details kept in agents.json');
  assert.is(rec.interval, 1);
  await waitFor(() => s2.manager.state.alerts().some((x) => x.agent === 'old-timer' && x.type === 'AGENT_DOWN'), 10_000, 'AGENT_DOWN');
}));

test('a corrupt agents.json: the manager refuses to start, naming the file and what to do', timed(20_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  writeFileSync(join(dataDir, 'agents.json'), '{"agents": [{"id": "x"');
  const p = run(MANAGER_JS, ['--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--api', '127.0.0.1:0', '--data-dir', dataDir, '--no-console']);
  const code = await p.exited;
  assert.is.not(code, 0);
  assert.match(p.output(), /agents\.json/);
  assert.match(p.output(), /STATE_CORRUPT/);
  assert.match(p.output(), /backup|move it away/);
  assert.not.ok(existsSync(join(dataDir, 'manager.json')), 'never served');
}));

test('after a restart, an agent that came back and then died is AGENT_DOWN after its own silence, not the grace', timed(60_000, async () => {
  const s1 = await serveTest();
  const stateDir = tempDir('hw-agent-');
  const id = randomUUID();
  const a1 = await testAgent(s1, drivenDeps(), { id, name: 'lazarus', stateDir });
  await waitFor(() => s1.manager.state.agents().find((x) => x.name === 'lazarus')?.metrics, 10_000, 'reporting');
  await a1.stop();
  await s1.close();
  const s2 = await serveTest({ dataDir: s1.dataDir, port: s1.tcpPort, udpPort: s1.udpPort, startGraceMs: 30_000 });
  closers.push(s2.close);
  const started = Date.now();
  const a2 = await testAgent(s2, drivenDeps(), { id, name: 'lazarus', stateDir });
  await waitFor(() => s2.manager.state.agent(id)?.online && s2.manager.state.agent(id)?.metrics, 10_000, 'back');
  await a2.stop();
  const down = await waitFor(() => s2.manager.state.alerts().find((x) => x.agentId === id && x.type === 'AGENT_DOWN'), 40_000, 'AGENT_DOWN');
  // Three 1 s intervals, never under 3 s, plus a sweep: raised (by the manager's own clock) before
  // the 30 s grace could have run out, after at least 3 s of its silence. How soon after is not
  // timed: a loaded machine delays the sweep.
  assert.ok(down.at - started < 30_000, `AGENT_DOWN at ${down.at - started} ms, before the grace ran out`);
  assert.ok(down.value >= 3, `AGENT_DOWN after ${down.value} s of silence`);
}));

test('accept of an accepted agent changes nothing: no second record, no second "accepted"', timed(30_000, async () => {
  const s = await serveTest({ autoAccept: false });
  closers.push(s.close);
  const a = await testAgent(s, drivenDeps(), { name: 'twice' });
  agents.push(a);
  await waitFor(() => s.manager.state.pending().length === 1, 10_000, 'pending');
  assert.is((await cli(s.dataDir, ['accept', 'twice'])).code, 0);
  await waitFor(() => s.manager.state.agents().find((x) => x.name === 'twice')?.metrics, 10_000, 'reporting');
  const again = await cli(s.dataDir, ['accept', 'twice']);
  assert.is(again.code, 0, again.stderr);
  assert.is(readEvents(s.dataDir).filter((e) => e.event === 'accept').length, 1, 'one accept in the record');
  assert.is(s.manager.state.agents().length, 1);
}));

test.run();
