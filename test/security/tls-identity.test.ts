// A program's TLS identity: made once, read back the same; half of one, a broken file, or a key
// and certificate that do not belong together fail closed instead of being replaced.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';

const test = suite('security/tls-identity');
test.after.each(() => cleanTempDirs());

async function rejection(p: Promise<unknown>): Promise<HwError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, HwError);
    return err as HwError;
  }
  throw new Error('expected a rejection');
}

test('made on first start (key 0600), read back with the same fingerprint', timed(10_000, async () => {
  const dir = tempDir();
  const a = await loadOrCreateIdentity(dir, 'agent', 'cn');
  assert.ok(a.created);
  if (process.platform !== 'win32') assert.is((await import('node:fs')).statSync(join(dir, 'agent-key.pem')).mode & 0o777, 0o600);
  const b = await loadOrCreateIdentity(dir, 'agent', 'cn');
  assert.not.ok(b.created);
  assert.is(b.fingerprint, a.fingerprint);
}));

test('a key without its certificate (or the reverse) is STATE_CORRUPT, and the key is not overwritten', timed(10_000, async () => {
  const dir = tempDir();
  await loadOrCreateIdentity(dir, 'agent', 'cn');
  const key = readFileSync(join(dir, 'agent-key.pem'), 'utf8');
  rmSync(join(dir, 'agent-cert.pem'));
  const e = await rejection(loadOrCreateIdentity(dir, 'agent', 'cn'));
  assert.is(e.code, 'STATE_CORRUPT');
  assert.match(e.message, /agent-cert\.pem is missing/);
  assert.match(e.message, /move both .* away to make a new identity/);
  assert.is(readFileSync(join(dir, 'agent-key.pem'), 'utf8'), key);
  const other = tempDir();
  await loadOrCreateIdentity(other, 'manager', 'cn');
  rmSync(join(other, 'manager-key.pem'));
  assert.is((await rejection(loadOrCreateIdentity(other, 'manager', 'cn'))).code, 'STATE_CORRUPT');
}));

test('a garbled key or certificate, or a pair that does not match, is STATE_CORRUPT naming the file', timed(15_000, async () => {
  const one = tempDir();
  const two = tempDir();
  await loadOrCreateIdentity(one, 'agent', 'cn');
  await loadOrCreateIdentity(two, 'agent', 'cn');
  writeFileSync(join(one, 'agent-cert.pem'), readFileSync(join(two, 'agent-cert.pem')));
  const mismatch = await rejection(loadOrCreateIdentity(one, 'agent', 'cn'));
  assert.is(mismatch.code, 'STATE_CORRUPT');
  assert.match(mismatch.message, /does not match the key/);
  writeFileSync(join(one, 'agent-cert.pem'), '-----BEGIN CERTIFICATE-----\nnope\n');
  const garbled = await rejection(loadOrCreateIdentity(one, 'agent', 'cn'));
  assert.is(garbled.code, 'STATE_CORRUPT');
  assert.ok(garbled.message.includes(join(one, 'agent-cert.pem')), garbled.message);
  writeFileSync(join(two, 'agent-key.pem'), 'not a key');
  assert.is((await rejection(loadOrCreateIdentity(two, 'agent', 'cn'))).code, 'STATE_CORRUPT');
}));

test.run();
