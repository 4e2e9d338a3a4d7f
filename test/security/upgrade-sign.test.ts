// Upgrade signatures: a signed executable verifies; a flipped byte, another key, a truncated file,
// another platform and a changed manifest are each refused with their code.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createUpgradeKey, loadPrivateKey, parsePublicKey, parseSignedManifest, publicKeyBase64, readSignature, signExecutable, verifyFile, UPGRADE_KEY_FILE, UPGRADE_PUB_FILE,
} from '../../common/security/upgrade-sign.ts';
import { cleanTempDirs, codeOf, codeOfAsync, tempDir } from '../harness.helper.ts';

const test = suite('security/upgrade-sign');
test.after.each(() => cleanTempDirs());

const HOST = { platform: 'linux', arch: 'x64' };

async function signed(dir: string, bytes = 300_000) {
  const { keyFile, publicKey } = createUpgradeKey(dir);
  const exe = join(dir, 'agent-b');
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31) & 0xff;
  writeFileSync(exe, data);
  const sig = await signExecutable(exe, loadPrivateKey(keyFile), { ...HOST, version: '0.2.0' });
  return { exe, sig, publicKey, keyFile };
}

test('create writes the pair 0600, refuses to overwrite; show gives base64 and PEM of the same key', () => {
  const dir = tempDir();
  const { keyFile, publicKey } = createUpgradeKey(dir);
  assert.is(statSync(keyFile).mode & 0o777, 0o600);
  assert.is(codeOf(() => createUpgradeKey(dir)), 'KEY_EXISTS');
  const b64 = publicKeyBase64(publicKey);
  assert.is(Buffer.from(b64, 'base64').length, 32);
  assert.is(publicKeyBase64(parsePublicKey(b64)), b64);
  assert.is(publicKeyBase64(parsePublicKey(readFileSync(join(dir, UPGRADE_PUB_FILE), 'utf8'))), b64);
  assert.is(codeOf(() => parsePublicKey('not a key')), 'UPGRADE_NO_KEY');
  assert.is(codeOf(() => parsePublicKey(Buffer.alloc(31).toString('base64'))), 'UPGRADE_NO_KEY');
  assert.ok(readFileSync(join(dir, UPGRADE_KEY_FILE), 'utf8').includes('PRIVATE KEY'));
});

test('a signed executable verifies, and the .sig names its sha256, size, platform and version', async () => {
  const dir = tempDir();
  const { exe, sig, publicKey } = await signed(dir);
  assert.equal(readSignature(exe), sig);
  assert.is(sig.manifest.size, 300_000);
  assert.is(sig.manifest.version, '0.2.0');
  await verifyFile(exe, sig, publicKey, HOST);
});

test('a flipped byte: UPGRADE_BAD_SIGNATURE', async () => {
  const dir = tempDir();
  const { exe, sig, publicKey } = await signed(dir);
  const data = readFileSync(exe);
  data[12345] ^= 1;
  writeFileSync(exe, data);
  assert.is(await codeOfAsync(verifyFile(exe, sig, publicKey, HOST)), 'UPGRADE_BAD_SIGNATURE');
});

test('another key, or a manifest changed after signing: UPGRADE_BAD_SIGNATURE', async () => {
  const dir = tempDir();
  const { exe, sig } = await signed(dir);
  const other = generateKeyPairSync('ed25519').publicKey;
  assert.is(await codeOfAsync(verifyFile(exe, sig, other, HOST)), 'UPGRADE_BAD_SIGNATURE');
  // It names the key it trusts, to compare with `manager upgrade-key show`.
  const said = await verifyFile(exe, sig, other, HOST).then(() => '', (err: Error) => err.message);
  assert.ok(said.includes(`(${publicKeyBase64(other)}; \`manager upgrade-key show\``), said);
  const d2 = tempDir();
  const b = await signed(d2);
  const forged = { ...b.sig, manifest: { ...b.sig.manifest, version: '9.9.9' } };
  assert.is(await codeOfAsync(verifyFile(b.exe, forged, b.publicKey, HOST)), 'UPGRADE_BAD_SIGNATURE');
});

test('a truncated file: UPGRADE_TRUNCATED; another platform or arch: UPGRADE_WRONG_PLATFORM', async () => {
  const dir = tempDir();
  const { exe, sig, publicKey } = await signed(dir);
  assert.is(await codeOfAsync(verifyFile(exe, sig, publicKey, { platform: 'win32', arch: 'x64' })), 'UPGRADE_WRONG_PLATFORM');
  assert.is(await codeOfAsync(verifyFile(exe, sig, publicKey, { platform: 'linux', arch: 'arm64' })), 'UPGRADE_WRONG_PLATFORM');
  truncateSync(exe, 299_999);
  assert.is(await codeOfAsync(verifyFile(exe, sig, publicKey, HOST)), 'UPGRADE_TRUNCATED');
});

test('a .sig that is not one: missing, not JSON, odd fields', () => {
  const dir = tempDir();
  assert.is(codeOf(() => readSignature(join(dir, 'nothing'))), 'UPGRADE_BAD_SIGNATURE');
  for (const v of ['{', '[]', '{"manifest":{},"signature":"x"}', JSON.stringify({ manifest: { sha256: 'a'.repeat(64), size: 1, platform: 'linux', arch: 'x64', version: '1' }, signature: 'short' })]) {
    assert.is(codeOf(() => parseSignedManifest(v)), 'UPGRADE_BAD_SIGNATURE', v);
  }
});

test.run();
