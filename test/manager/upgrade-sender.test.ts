// The manager's side of an upgrade: nothing is sent beyond the credit the agent granted, the file
// is read from disk as credit comes, the agent's refusal comes back as its coded error, and a
// file that differs from its signature's size is refused before a byte goes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentLink } from '../../common/manager/agent-link.ts';
import { UpgradeSender } from '../../common/manager/upgrade-sender.ts';
import { signManifest } from '../../common/security/upgrade-sign.ts';
import type { AgentMessage, ManagerMessage } from '../../common/wire/messages.ts';
import type { Peer } from '../../common/wire/peer.ts';
import { cleanTempDirs, codeOfAsync, tempDir, timed, waitFor } from '../harness.helper.ts';

const test = suite('manager/upgrade-sender');
test.after.each(() => cleanTempDirs());

const key = generateKeyPairSync('ed25519').privateKey;

/** Lets the sender run what it would (file reads included) before asserting it sent nothing more. */
async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function setup(bytes: number) {
  const dir = tempDir();
  const file = join(dir, 'agent-b');
  const data = Buffer.alloc(bytes, 7);
  writeFileSync(file, data);
  const sig = signManifest({ sha256: createHash('sha256').update(data).digest('hex'), size: bytes, platform: 'linux', arch: 'x64', version: '0.2.0' }, key);
  const msgs: ManagerMessage[] = [];
  let sent = 0;
  const peer = {
    closed: false,
    send: async (m: ManagerMessage) => { msgs.push(m); },
    post: (m: ManagerMessage) => { msgs.push(m); },
    sendData: async (_id: number, buf: Buffer) => { sent += buf.length; },
  } as unknown as Peer<AgentMessage, ManagerMessage>;
  const link = new AgentLink('a', peer);
  return { file, sig, link, msgs, sent: () => sent };
}

test('sends only what was credited; done when the agent says ok', timed(10_000, async () => {
  const s = setup(3 * 1024 * 1024);
  const sender = new UpgradeSender();
  const done = sender.send(s.link, s.file, s.sig, 'admin');
  await waitFor(() => s.msgs.find((m) => m.type === 'upgrade'), 2000, 'upgrade');
  const id = (s.msgs[0] as { id: number }).id;
  await turns();
  assert.is(s.sent(), 0, 'nothing before the first credit');
  sender.onMessage(s.link, { type: 'upgrade-credit', id, bytes: 1000 });
  await waitFor(() => s.sent() === 1000, 2000, '1000 bytes');
  await turns();
  assert.is(s.sent(), 1000, 'no more than credited');
  sender.onMessage(s.link, { type: 'upgrade-credit', id, bytes: 3 * 1024 * 1024 });
  await waitFor(() => s.msgs.find((m) => m.type === 'upgrade-end'), 2000, 'upgrade-end');
  assert.is(s.sent(), 3 * 1024 * 1024);
  sender.onMessage(s.link, { type: 'upgrade-result', id, ok: true });
  await done;
  assert.is(sender.active, 0);
}));

test('the agent refuses: its code; a file that is not the signed size: UPGRADE_TRUNCATED before a byte', timed(10_000, async () => {
  const s = setup(1000);
  const sender = new UpgradeSender();
  const p = sender.send(s.link, s.file, s.sig, 'admin');
  await waitFor(() => s.msgs.find((m) => m.type === 'upgrade'), 2000, 'upgrade');
  sender.onMessage(s.link, { type: 'upgrade-result', id: (s.msgs[0] as { id: number }).id, ok: false, error: { code: 'UPGRADE_NOT_ALLOWED', message: 'no' } });
  assert.is(await codeOfAsync(p), 'UPGRADE_NOT_ALLOWED');
  const t = setup(1000);
  writeFileSync(t.file, Buffer.alloc(999));
  assert.is(await codeOfAsync(sender.send(t.link, t.file, t.sig, 'admin')), 'UPGRADE_TRUNCATED');
  assert.is(t.sent(), 0);
}));

test('the connection lost: DISCONNECTED', timed(10_000, async () => {
  const s = setup(1000);
  const sender = new UpgradeSender();
  const p = sender.send(s.link, s.file, s.sig, 'admin');
  await waitFor(() => s.msgs.find((m) => m.type === 'upgrade'), 2000, 'upgrade');
  sender.closed(s.link);
  assert.is(await codeOfAsync(p), 'DISCONNECTED');
}));

test.run();
