// The agent's checks on an upgrade: refused with its code before anything is written or replaced
// (not allowed, no key, another key, another platform, a size that differs), the credit it grants
// bounding what the manager may send, and what is on disk checked after the fsync.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpgradeReceiver, type VerifiedUpgrade } from '../../common/agent/upgrade-receiver.ts';
import { signManifest, type SignedManifest } from '../../common/security/upgrade-sign.ts';
import type { Link } from '../../common/agent/connection.ts';
import type { AgentMessage } from '../../common/wire/messages.ts';
import { createHash } from 'node:crypto';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

const test = suite('agent/upgrade-receiver');
test.after.each(() => cleanTempDirs());

const keys = generateKeyPairSync('ed25519');
const WINDOW = 64 * 1024;

function payload(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

function sigOf(data: Buffer, over: Partial<SignedManifest['manifest']> = {}, key = keys.privateKey): SignedManifest {
  return signManifest({ sha256: createHash('sha256').update(data).digest('hex'), size: data.length, platform: 'linux', arch: 'x64', version: '0.2.0', ...over }, key);
}

function fakeLink() {
  const sent: AgentMessage[] = [];
  const link = { closed: false, post: (m: AgentMessage) => { sent.push(m); } } as unknown as Link;
  return { link, sent };
}

function receiver(dir: string, o: { allowed?: boolean; key?: boolean } = {}) {
  const verified: VerifiedUpgrade[] = [];
  const exe = join(dir, 'agent');
  writeFileSync(exe, 'A');
  const r = new UpgradeReceiver({
    allowed: o.allowed ?? true, key: () => (o.key === false ? undefined : keys.publicKey), exe, platform: 'linux', arch: 'x64', window: WINDOW,
    verified: (u) => verified.push(u), log: () => {},
  });
  return { r, exe, verified };
}

/** Sends `data` as the manager would: only within the credit granted so far. */
async function send(r: UpgradeReceiver, link: Link, sent: AgentMessage[], id: number, data: Buffer, chunk = 16 * 1024): Promise<void> {
  let off = 0;
  const granted = () => sent.filter((m) => m.type === 'upgrade-credit').reduce((n, m) => n + (m as { bytes: number }).bytes, 0);
  while (off < data.length) {
    await waitFor(() => granted() > off || sent.some((m) => m.type === 'upgrade-result'), 5000, 'credit');
    if (sent.some((m) => m.type === 'upgrade-result')) return;
    const n = Math.min(chunk, data.length - off, granted() - off);
    r.data(link, id, [data.subarray(off, off + n)], n);
    off += n;
  }
}

const result = (sent: AgentMessage[]) => sent.find((m) => m.type === 'upgrade-result') as { ok: boolean; error?: { code: string } } | undefined;

test('refusals before a byte: not allowed, no key, another key, another platform, a size that differs', timed(10_000, async () => {
  const data = payload(1000);
  const other = generateKeyPairSync('ed25519').privateKey;
  const cases: [string, { allowed?: boolean; key?: boolean }, SignedManifest, number][] = [
    ['UPGRADE_NOT_ALLOWED', { allowed: false }, sigOf(data), 1000],
    ['UPGRADE_NO_KEY', { key: false }, sigOf(data), 1000],
    ['UPGRADE_BAD_SIGNATURE', {}, sigOf(data, {}, other), 1000],
    ['UPGRADE_WRONG_PLATFORM', {}, sigOf(data, { platform: 'win32' }), 1000],
    ['UPGRADE_WRONG_PLATFORM', {}, sigOf(data, { arch: 'arm64' }), 1000],
    ['UPGRADE_TRUNCATED', {}, sigOf(data), 999],
  ];
  for (const [code, o, sig, size] of cases) {
    const dir = tempDir();
    const { r, exe } = receiver(dir, o);
    const { link, sent } = fakeLink();
    await r.start(link, { type: 'upgrade', id: 1, size, sig: sig as unknown as Record<string, unknown> });
    assert.is(result(sent)?.error?.code, code);
    assert.not.ok(sent.some((m) => m.type === 'upgrade-credit'), 'no credit granted');
    assert.not.ok(existsSync(`${exe}.new`));
    assert.is(readFileSync(exe, 'utf8'), 'A');
  }
}));

test('a signed executable: written within the credit, fsynced, verified, handed on', timed(10_000, async () => {
  const dir = tempDir();
  const { r, exe, verified } = receiver(dir);
  const { link, sent } = fakeLink();
  const data = payload(300_000);
  await r.start(link, { type: 'upgrade', id: 7, size: data.length, sig: sigOf(data) as unknown as Record<string, unknown>, by: 'admin' });
  assert.equal(sent[0], { type: 'upgrade-credit', id: 7, bytes: WINDOW });
  await send(r, link, sent, 7, data);
  await r.end(link, { type: 'upgrade-end', id: 7, bytes: data.length });
  assert.equal(result(sent), { type: 'upgrade-result', id: 7, ok: true });
  assert.is(verified.length, 1);
  assert.is(verified[0]!.by, 'admin');
  assert.ok(readFileSync(`${exe}.new`).equals(data));
  assert.is(readFileSync(exe, 'utf8'), 'A', 'nothing replaced yet');
  const credited = sent.filter((m) => m.type === 'upgrade-credit').reduce((n, m) => n + (m as { bytes: number }).bytes, 0);
  assert.is(credited, data.length, 'never more credit than the size');
}));

test('a flipped byte in transit: UPGRADE_BAD_SIGNATURE, .new removed; a short transfer: UPGRADE_TRUNCATED', timed(10_000, async () => {
  for (const [code, mangle] of [['UPGRADE_BAD_SIGNATURE', (d: Buffer) => { const c = Buffer.from(d); c[5000]! ^= 1; return c; }], ['UPGRADE_TRUNCATED', (d: Buffer) => d.subarray(0, d.length - 10)]] as const) {
    const dir = tempDir();
    const { r, exe, verified } = receiver(dir);
    const { link, sent } = fakeLink();
    const data = payload(100_000);
    await r.start(link, { type: 'upgrade', id: 2, size: data.length, sig: sigOf(data) as unknown as Record<string, unknown> });
    const wire = mangle(data);
    await send(r, link, sent, 2, wire);
    await r.end(link, { type: 'upgrade-end', id: 2, bytes: wire.length });
    assert.is(result(sent)?.error?.code, code);
    assert.is(verified.length, 0);
    await waitFor(() => !existsSync(`${exe}.new`), 2000, '.new removed');
    assert.is(readFileSync(exe, 'utf8'), 'A');
  }
}));

test('data past the credit granted: CREDIT_EXCEEDED, nothing kept', timed(10_000, async () => {
  const dir = tempDir();
  const { r, exe } = receiver(dir);
  const { link, sent } = fakeLink();
  const data = payload(WINDOW * 3);
  await r.start(link, { type: 'upgrade', id: 3, size: data.length, sig: sigOf(data) as unknown as Record<string, unknown> });
  r.data(link, 3, [data.subarray(0, WINDOW + 1)], WINDOW + 1);
  assert.is(result(sent)?.error?.code, 'CREDIT_EXCEEDED');
  await waitFor(() => !existsSync(`${exe}.new`), 2000, '.new removed');
}));

test('a second upgrade while one is under way: UPGRADE_BUSY', timed(10_000, async () => {
  const dir = tempDir();
  const { r } = receiver(dir);
  const { link, sent } = fakeLink();
  const data = payload(1000);
  await r.start(link, { type: 'upgrade', id: 4, size: data.length, sig: sigOf(data) as unknown as Record<string, unknown> });
  await r.start(link, { type: 'upgrade', id: 5, size: data.length, sig: sigOf(data) as unknown as Record<string, unknown> });
  assert.is(result(sent)?.error?.code, 'UPGRADE_BUSY');
  r.lost();
}));

test.run();
