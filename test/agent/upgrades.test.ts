// What the agent that runs after a switch tells the manager at its welcome: B confirms (which ends
// the watcher's wait); A back after a rollback, or after a switch cut short by a kill, says why.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentUpgrades } from '../../common/agent/upgrades.ts';
import { readUpgradeState, writeUpgradeState, type UpgradeState } from '../../common/agent/upgrade-switch.ts';
import type { Link } from '../../common/agent/connection.ts';
import type { AgentMessage, Welcome } from '../../common/wire/messages.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('agent/upgrades');
test.after.each(() => cleanTempDirs());

const welcome: Welcome = { type: 'welcome', v: 1, agentId: 'x', heartbeatMs: 10_000, status: 'accepted', udpKey: '' };

function welcomed(version: string, state: Omit<UpgradeState, 'exe' | 'at' | 'from' | 'to'>) {
  const dir = tempDir();
  writeUpgradeState(dir, { from: '0.1.0', to: '0.2.0', exe: '/x', at: 1, by: 'web alice', ...state });
  const sent: AgentMessage[] = [];
  const u = new AgentUpgrades({ allowed: true, stateDir: dir, exe: '/x', version, verified: () => {}, log: () => {} });
  u.onWelcome({ post: (m: AgentMessage) => sent.push(m) } as unknown as Link, welcome);
  return { sent, state: readUpgradeState(dir) };
}

test('B welcomed during its probation: confirmed, and the manager told ok with who asked', () => {
  const { sent, state } = welcomed('0.2.0', { phase: 'probation' });
  assert.is(state?.phase, 'confirmed');
  assert.equal(sent, [{ type: 'upgrade-outcome', ok: true, from: '0.1.0', to: '0.2.0', version: '0.2.0', by: 'web alice' }]);
});

test('A after a rollback: the reason told once', () => {
  const { sent, state } = welcomed('0.1.0', { phase: 'rolled-back', reason: 'the new agent exited (code 3) before it was welcomed' });
  assert.is(state?.phase, 'reported');
  assert.is(sent.length, 1);
  assert.equal((sent[0] as { ok: boolean; reason: string }).ok, false);
  assert.match((sent[0] as { reason: string }).reason, /code 3/);
});

test('A running while the state says switching (a kill before the rename): reported undone', () => {
  const { sent, state } = welcomed('0.1.0', { phase: 'switching' });
  assert.is(state?.phase, 'reported');
  assert.match((sent[0] as { reason: string }).reason, /interrupted/);
});

test('nothing to say once confirmed or reported', () => {
  assert.equal(welcomed('0.2.0', { phase: 'confirmed' }).sent, []);
  assert.equal(welcomed('0.1.0', { phase: 'reported' }).sent, []);
});

test.run();
