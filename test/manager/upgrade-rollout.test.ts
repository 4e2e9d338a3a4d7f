// A rollout cut short by a manager restart is shown where it stopped (interrupted), not as running;
// the hosts it caught mid-way are judged by the version of their next hello; a resume is refused
// unless there is an interrupted rollout and its executable is unchanged, and is recorded with who.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLLOUT_FILE, Rollouts, type RolloutDeps, type RolloutStatus } from '../../common/manager/upgrade-rollout.ts';
import { UpgradeSender } from '../../common/manager/upgrade-sender.ts';
import { ManagerState, type AgentRecord } from '../../common/manager/state.ts';
import type { LoggedEvent } from '../../common/manager/event-log.ts';
import { signExecutable, signManifest } from '../../common/security/upgrade-sign.ts';
import type { Hello } from '../../common/wire/messages.ts';
import { cleanTempDirs, codeOf, codeOfAsync, tempDir, waitFor } from '../harness.helper.ts';

const test = suite('manager/upgrade-rollout');
test.after.each(() => cleanTempDirs());

function deps(dir: string): RolloutDeps {
  return { dataDir: dir, state: {} as RolloutDeps['state'], link: () => undefined, sender: new UpgradeSender(), now: () => 1, notice: () => {} };
}

test('after a restart, a rollout saved as running shows as interrupted, its hosts where they were', () => {
  const dir = tempDir();
  const saved: RolloutStatus = {
    by: 'api', file: '/x', version: '0.2.0', platform: 'linux', arch: 'x64', sha256: 'a'.repeat(64), batchSize: 1, maxFailures: 1, state: 'running', startedAt: 1,
    hosts: [{ agent: 'a', agentId: '1', step: 'done', from: '0.1.0', at: 1 }, { agent: 'b', agentId: '2', step: 'switching', from: '0.1.0', at: 1 }],
  };
  writeFileSync(join(dir, ROLLOUT_FILE), JSON.stringify(saved));
  const s = new Rollouts(deps(dir)).status()!;
  assert.is(s.state, 'interrupted');
  assert.equal(s.hosts.map((h) => h.step), ['done', 'switching']);
});

/** A rollout of three hosts saved as running by a manager that died: a done, b switching, c not started. */
function interrupted(dir: string, file = '/x', sha256 = 'a'.repeat(64)): void {
  const saved: RolloutStatus = {
    by: 'alice', file, version: '0.2.0', platform: 'linux', arch: 'x64', sha256, batchSize: 2, maxFailures: 1, state: 'running', startedAt: 1, batch: 1, batches: 2,
    hosts: [
      { agent: 'a', agentId: '1', step: 'done', from: '0.1.0', at: 1 },
      { agent: 'b', agentId: '2', step: 'switching', from: '0.1.0', at: 1 },
      { agent: 'c', agentId: '3', step: 'waiting', from: '0.1.0', at: 1 },
    ],
  };
  writeFileSync(join(dir, ROLLOUT_FILE), JSON.stringify(saved));
}

const hello = (id: string, version: string): Hello => ({ type: 'hello', id, version, features: ['upgrade'] } as unknown as Hello);

test('the restart is written down at once: a second restart still says interrupted, with when', () => {
  const dir = tempDir();
  interrupted(dir);
  new Rollouts({ ...deps(dir), now: () => 42 });
  const onDisk = JSON.parse(readFileSync(join(dir, ROLLOUT_FILE), 'utf8')) as RolloutStatus;
  assert.is(onDisk.state, 'interrupted');
  assert.is(onDisk.interruptedAt, 42);
  const again = new Rollouts({ ...deps(dir), now: () => 99 }).status()!;
  assert.is(again.state, 'interrupted');
  assert.is(again.interruptedAt, 42, 'when the first restart found it');
  assert.is(again.batch, 1);
});

test('a host caught switching comes back on the new version: done; on the old one: pending again', () => {
  for (const [version, step] of [['0.2.0', 'done'], ['0.1.0', 'waiting']] as const) {
    const dir = tempDir();
    interrupted(dir);
    const r = new Rollouts(deps(dir));
    r.hello(hello('3', '0.1.0')); // not caught mid-way: unchanged
    r.hello(hello('2', version));
    const s = r.status()!;
    assert.equal(s.hosts.map((h) => h.step), ['done', step, 'waiting']);
    assert.match(s.hosts[1]!.note!, new RegExp(`was switching when the manager stopped; came back on ${version.replace(/\./g, '\\.')}`));
    assert.is((JSON.parse(readFileSync(join(dir, ROLLOUT_FILE), 'utf8')) as RolloutStatus).hosts[1]!.step, step, 'written down');
  }
});

test('resume: refused with no rollout, or one that is not interrupted (UPGRADE_NOT_RESUMABLE)', async () => {
  const dir = tempDir();
  assert.is(await codeOfAsync(new Rollouts(deps(dir)).resume('alice')), 'UPGRADE_NOT_RESUMABLE');
  interrupted(dir);
  const saved = JSON.parse(readFileSync(join(dir, ROLLOUT_FILE), 'utf8')) as RolloutStatus;
  writeFileSync(join(dir, ROLLOUT_FILE), JSON.stringify({ ...saved, state: 'done' }));
  assert.is(await codeOfAsync(new Rollouts(deps(dir)).resume('alice')), 'UPGRADE_NOT_RESUMABLE');
});

test('resume: an executable changed since the rollout began is refused (UPGRADE_FILE_CHANGED); unchanged, it goes on, recorded with who', async () => {
  const dir = tempDir();
  const exe = join(dir, 'agent-b');
  writeFileSync(exe, 'the new agent');
  const key = generateKeyPairSync('ed25519').privateKey;
  const sig = await signExecutable(exe, key, { platform: 'linux', arch: 'x64', version: '0.2.0' });
  interrupted(dir, exe, sig.manifest.sha256);
  const state = new ManagerState();
  const events: LoggedEvent[] = [];
  state.on('event', (e) => events.push(e));
  appendFileSync(exe, ' and more'); // same signature, other bytes
  const r = new Rollouts({ ...deps(dir), state, waitMs: 50, reconnectMs: 50 });
  assert.is(await codeOfAsync(r.resume('bob')), 'UPGRADE_FILE_CHANGED');
  assert.is(r.status()!.state, 'interrupted', 'still where it stopped');
  writeFileSync(exe, 'the new agent');
  const s = await r.resume('bob');
  assert.is(s.state, 'running');
  assert.is(s.resumedBy, 'bob');
  const rec = events.find((e) => e.type === 'UPGRADE_RESUMED');
  assert.is(rec?.by, 'bob');
  assert.is(rec?.pending, 2, 'b (caught switching) and c');
  assert.is(await codeOfAsync(r.resume('bob')), 'UPGRADE_BUSY');
  // Neither comes back here: b is given up after the wait, c is not connected.
  await waitFor(() => r.status()!.state !== 'running', 5000, 'the resumed rollout ends');
  assert.equal(r.status()!.hosts.map((h) => [h.step, h.error?.code]), [['done', undefined], ['failed', 'AGENT_OFFLINE'], ['failed', 'AGENT_OFFLINE']]);
  assert.is(r.status()!.batch, 1, 'b and c were one batch, still the first');
});

test('a broken rollout file fails closed (STATE_CORRUPT); none at all is no rollout', () => {
  const dir = tempDir();
  assert.is(new Rollouts(deps(dir)).status(), undefined);
  writeFileSync(join(dir, ROLLOUT_FILE), '{');
  assert.is(codeOf(() => new Rollouts(deps(dir))), 'STATE_CORRUPT');
});

test('an executable without a signature is refused before anything starts', () => {
  const dir = tempDir();
  const r = new Rollouts(deps(dir));
  assert.is(codeOf(() => r.start({ targets: [], file: join(dir, 'nothing'), batch: { count: 1 }, maxFailures: 1, by: 'api' })), 'UPGRADE_BAD_SIGNATURE');
  assert.is(r.status(), undefined);
});

test('a rollout of a file whose signature contradicts its header is refused before anything starts', () => {
  const dir = tempDir();
  const lying = join(dir, 'agent-linux-x64');
  const bytes = Buffer.alloc(1024); // a PE header, as the Windows builds start: MZ, the offset at 0x3c, PE\0\0, Machine x64
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(0x80, 0x3c);
  bytes.write('PE\0\0', 0x80, 'latin1');
  bytes.writeUInt16LE(0x8664, 0x84);
  writeFileSync(lying, bytes);
  const { privateKey } = generateKeyPairSync('ed25519');
  // A .sig made by hand (or by an older `upgrade-key sign`) that says linux-x64.
  writeFileSync(`${lying}.sig`, JSON.stringify(signManifest({ sha256: 'a'.repeat(64), size: bytes.length, platform: 'linux', arch: 'x64', version: '0.2.0' }, privateKey)));
  const r = new Rollouts(deps(dir));
  assert.is(codeOf(() => r.start({ targets: [], file: lying, batch: { count: 1 }, maxFailures: 1, by: 'api' })), 'UPGRADE_WRONG_PLATFORM');
  assert.is(r.status(), undefined);
});

test('hosts already on the version are skipped at once, and the batches are of the others', async () => {
  const dir = tempDir();
  const file = join(dir, 'agent-b');
  writeFileSync(file, Buffer.alloc(4096, 7));
  const { privateKey } = generateKeyPairSync('ed25519');
  await signExecutable(file, privateKey, { platform: 'linux', arch: 'x64', version: '0.2.0' });
  const records = new Map([['1', '0.2.0'], ['2', '0.2.0'], ['3', '0.1.0'], ['4', '0.2.0']].map(([id, version]) => [id!, { id, name: `h${id}`, version, platform: 'linux', arch: 'x64', online: false } as unknown as AgentRecord]));
  const state = { agent: (id: string) => records.get(id), record: () => {} } as unknown as RolloutDeps['state'];
  const r = new Rollouts({ ...deps(dir), state });
  const first = r.start({ targets: [...records.values()], file, batch: { percent: 50 }, maxFailures: 1, by: 'alice' });
  assert.equal([0, 1, 3].map((i) => first.hosts[i]!.step), ['skipped', 'skipped', 'skipped']);
  assert.is(first.batchSize, 1, '50% of the one host to upgrade');
  assert.is(first.batches, 1);
  const s = await waitFor(() => (r.status()?.state === 'running' ? undefined : r.status()), 5000, 'the rollout over');
  assert.equal(s.hosts.map((h) => h.step), ['skipped', 'skipped', 'failed', 'skipped'], 'the offline one failed, the others untouched');
  assert.is(s.hosts[2]!.error?.code, 'AGENT_OFFLINE');
});

test.run();
