// A rollout cut short by a manager restart is shown where it stopped (interrupted), not as running,
// and a second rollout is refused while one runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLLOUT_FILE, Rollouts, type RolloutDeps, type RolloutStatus } from '../../common/manager/upgrade-rollout.ts';
import { UpgradeSender } from '../../common/manager/upgrade-sender.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

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

test.run();
