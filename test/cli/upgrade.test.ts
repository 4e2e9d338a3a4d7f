// `manager upgrade status` as an administrator reads it: one line per host, a summary that counts
// in plain words ("1 host", not "1 hosts"), and where an interrupted rollout stopped.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { upgradeResumeCmd, upgradeStatusCmd } from '../../common/cli/upgrade.ts';
import { HwError } from '../../common/errors.ts';
import { codeOfAsync } from '../harness.helper.ts';
import type { RolloutStatus } from '../../common/api/types.ts';
import type { HttpClient } from '../../common/cli/client.ts';

const test = suite('cli/upgrade');

function rollout(hosts: RolloutStatus['hosts'], state: RolloutStatus['state'] = 'done'): RolloutStatus {
  return { by: 'alice', file: '/x', version: '0.2.0', platform: 'linux', arch: 'x64', sha256: 'a'.repeat(64), batchSize: 1, maxFailures: 1, state, startedAt: 1, batch: 1, batches: 2, hosts };
}

async function status(s: RolloutStatus | null): Promise<string[]> {
  const lines: string[] = [];
  const client = { request: async () => s } as unknown as HttpClient;
  await upgradeStatusCmd(client, {}, { out: (t) => lines.push(t), err: () => {} });
  return lines;
}

test('one host: "1 host"; several: "2 hosts"; each host with its error code', async () => {
  const one = await status(rollout([{ agent: 'web-1', agentId: '1', step: 'failed', from: '0.1.0', at: 1, error: { code: 'UPGRADE_NOT_ALLOWED', message: 'not allowed' } }]));
  assert.equal(one, [
    'web-1: failed  UPGRADE_NOT_ALLOWED: not allowed',
    'upgrade to 0.2.0 (linux-x64) by alice: done; 1 host: 0 done, 0 already on it, 1 failed, 0 not started',
  ]);
  const two = await status(rollout([{ agent: 'a', agentId: '1', step: 'done', from: '0.1.0', at: 1 }, { agent: 'b', agentId: '2', step: 'waiting', from: '0.1.0', at: 1 }], 'interrupted'));
  assert.match(two[2]!, /: interrupted; 2 hosts: 1 done, 0 already on it, 0 failed, 1 not started$/);
  assert.match(two[3]!, /^interrupted in batch 1 of 2: `manager upgrade resume` goes on with the pending hosts$/);
  assert.equal(await status(null), ['no rollout yet']);
});

test('a host the file reached says how much was sent and how fast; one refused at the offer says nothing of it', async () => {
  const s = { ...rollout([
    { agent: 'a', agentId: '1', step: 'done', from: '0.1.0', at: 1, sendingAt: 1000, sentAt: 2300 },
    { agent: 'b', agentId: '2', step: 'failed', from: '0.1.0', at: 1, sendingAt: 1000, error: { code: 'UPGRADE_NOT_ALLOWED', message: 'no' } },
  ]), size: 100 * 1024 * 1024 };
  const lines = await status(s);
  assert.is(lines[0], 'a: done  (100.0 MiB sent in 1.3 s)');
  assert.is(lines[1], 'b: failed  UPGRADE_NOT_ALLOWED: no');
});

test('the manager gone while a rollout is followed: API_UNREACHABLE saying how to see where it stopped and go on', async () => {
  let asked = 0;
  const client = {
    request: async () => {
      if (asked++ === 0) return rollout([{ agent: 'a', agentId: '1', step: 'sending', from: '0.1.0', at: 1 }], 'running');
      throw new HwError('API_UNREACHABLE', 'no manager answers on 127.0.0.1:5007: is it running?');
    },
  } as unknown as HttpClient;
  const errs: unknown[] = [];
  const p = upgradeResumeCmd(client, {}, { out: () => {}, err: () => {} }).catch((e: unknown) => { errs.push(e); throw e; });
  assert.is(await codeOfAsync(p), 'API_UNREACHABLE');
  assert.match((errs[0] as Error).message, /is it running\?; the manager stopped during the rollout: once it is back, `manager upgrade status` shows where it stopped and `manager upgrade resume` goes on$/);
});

test.run();
