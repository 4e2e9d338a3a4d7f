// Upgrade signatures: an Ed25519 key pair (node:crypto) and a small signed manifest saying which
// executable is meant ({ sha256, size, platform, arch, version }). The signature covers the
// manifest, the manifest names the file's hash: so the key can sign on another machine than the
// manager, and an agent checks both the manifest's signature and the bytes it received.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { writeDurable } from '../fs/durable.ts';

export const UPGRADE_KEY_FILE = 'upgrade-key.pem';
export const UPGRADE_PUB_FILE = 'upgrade-key.pub.pem';
/** What the signed bytes start with, so a signature made for anything else never passes here. */
const DOMAIN = 'hostwatch-upgrade-manifest-v1\n';
const SIG_MAX_BYTES = 8192;

export interface UpgradeManifest {
  sha256: string;
  size: number;
  platform: string;
  arch: string;
  version: string;
}

/** The `<executable>.sig` file: the manifest and the base64 Ed25519 signature of it. */
export interface SignedManifest {
  manifest: UpgradeManifest;
  signature: string;
}

/** The signed bytes: the domain line and the manifest's fields in a fixed order. */
function signedBytes(m: UpgradeManifest): Buffer {
  return Buffer.from(DOMAIN + JSON.stringify({ sha256: m.sha256, size: m.size, platform: m.platform, arch: m.arch, version: m.version }));
}

/** Creates the key pair in `dir` (0600; refuses to overwrite one). Returns the public key. */
export function createUpgradeKey(dir: string): { keyFile: string; publicKey: KeyObject } {
  const keyFile = join(dir, UPGRADE_KEY_FILE);
  if (existsSync(keyFile)) throw new HwError('KEY_EXISTS', `${keyFile} exists: an upgrade key is made once (agents pin its public key); remove the file yourself to make another`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeDurable(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  writeDurable(join(dir, UPGRADE_PUB_FILE), publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
  return { keyFile, publicKey };
}

export function loadPrivateKey(file: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HwError('UPGRADE_NO_KEY', `cannot read the upgrade key ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): make one with \`manager upgrade-key create\` or give --key <file>`);
  }
  try {
    const k = createPrivateKey(text);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`a ${k.asymmetricKeyType ?? 'unknown'} key`);
    return k;
  } catch (err) {
    throw new HwError('UPGRADE_NO_KEY', `${file} is not an Ed25519 private key (${(err as Error).message})`);
  }
}

/** The public key as one line of base64 (the raw 32 bytes), what `--upgrade-key` takes. */
export function publicKeyBase64(k: KeyObject): string {
  const der = k.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32).toString('base64');
}

/** Ed25519 SPKI DER is this 12-byte prefix and the 32-byte key. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Reads a public key given as PEM, or as base64 of the raw 32 bytes or of the SPKI DER. */
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  try {
    if (t.startsWith('-----BEGIN')) {
      const k = createPublicKey(t);
      if (k.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
      return k;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) throw new Error('not base64');
    const raw = Buffer.from(t, 'base64');
    const der = raw.length === 32 ? Buffer.concat([SPKI_PREFIX, raw]) : raw;
    if (der.length !== 44 || !der.subarray(0, 12).equals(SPKI_PREFIX)) throw new Error('not 32 bytes');
    return createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (err) {
    throw new HwError('UPGRADE_NO_KEY', `not an Ed25519 public key (PEM, or base64 of its 32 bytes): ${(err as Error).message}`);
  }
}

/** SHA-256 and size of a file, streamed (an executable is ~100 MB: never read whole). */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 512 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export function signManifest(m: UpgradeManifest, key: KeyObject): SignedManifest {
  return { manifest: { ...m }, signature: sign(null, signedBytes(m), key).toString('base64') };
}

/** Signs `exe`: writes `<exe>.sig` (durably) and returns what it holds. */
export async function signExecutable(exe: string, key: KeyObject, target: { platform: string; arch: string; version: string }): Promise<SignedManifest> {
  const { sha256, size } = await hashFile(exe);
  const signed = signManifest({ sha256, size, platform: target.platform, arch: target.arch, version: target.version }, key);
  writeDurable(`${exe}.sig`, JSON.stringify(signed, null, 2) + '\n', { mode: 0o644 });
  return signed;
}

/** Parses a .sig file's text or an object from the wire: every field checked (UPGRADE_BAD_SIGNATURE). */
export function parseSignedManifest(v: unknown): SignedManifest {
  const bad = (why: string) => new HwError('UPGRADE_BAD_SIGNATURE', `not an upgrade signature: ${why}`);
  let o = v;
  if (typeof o === 'string') {
    if (o.length > SIG_MAX_BYTES) throw bad('too long');
    try {
      o = JSON.parse(o);
    } catch {
      throw bad('not JSON');
    }
  }
  if (typeof o !== 'object' || o === null) throw bad('not an object');
  const { manifest: m, signature } = o as Record<string, unknown>;
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(signature)) throw bad('"signature" is not a base64 Ed25519 signature');
  if (typeof m !== 'object' || m === null) throw bad('no "manifest"');
  const f = m as Record<string, unknown>;
  if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) throw bad('"sha256" is not 64 hex digits');
  if (!Number.isSafeInteger(f.size) || (f.size as number) < 1) throw bad('"size" is not a whole number of bytes');
  for (const k of ['platform', 'arch', 'version'] as const) {
    if (typeof f[k] !== 'string' || !/^[A-Za-z0-9._+-]{1,64}$/.test(f[k] as string)) throw bad(`"${k}" is missing or odd`);
  }
  return {
    manifest: { sha256: f.sha256, size: f.size as number, platform: f.platform as string, arch: f.arch as string, version: f.version as string },
    signature,
  };
}

export function readSignature(exe: string): SignedManifest {
  let text: string;
  try {
    text = readFileSync(`${exe}.sig`, 'utf8');
  } catch (err) {
    throw new HwError('UPGRADE_BAD_SIGNATURE', `${exe}.sig: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no signature beside the executable: sign it with `manager upgrade-key sign <executable>`' : (err as Error).message}`);
  }
  return parseSignedManifest(text);
}

/** Throws UPGRADE_BAD_SIGNATURE unless `key` signed this manifest. */
export function verifyManifest(s: SignedManifest, key: KeyObject): void {
  if (!verify(null, signedBytes(s.manifest), key, Buffer.from(s.signature, 'base64'))) {
    throw new HwError('UPGRADE_BAD_SIGNATURE', `the executable is not signed with the upgrade key this agent trusts (${publicKeyBase64(key)}; \`manager upgrade-key show\` prints the one \`sign\` uses by default)`);
  }
}

/** Throws UPGRADE_WRONG_PLATFORM unless the manifest is for this platform and architecture. */
export function checkPlatform(m: UpgradeManifest, platform: string, arch: string): void {
  if (m.platform !== platform || m.arch !== arch) {
    throw new HwError('UPGRADE_WRONG_PLATFORM', `the executable is for ${m.platform}-${m.arch}, this host is ${platform}-${arch}`);
  }
}

/** Throws UPGRADE_TRUNCATED / UPGRADE_BAD_SIGNATURE unless the bytes received are the ones signed. */
export function checkReceived(m: UpgradeManifest, got: { sha256: string; size: number }): void {
  if (got.size !== m.size) throw new HwError('UPGRADE_TRUNCATED', `received ${got.size} bytes, the signed executable has ${m.size}`);
  if (got.sha256 !== m.sha256) throw new HwError('UPGRADE_BAD_SIGNATURE', `the executable received (sha256 ${got.sha256.slice(0, 16)}...) is not the one signed (${m.sha256.slice(0, 16)}...)`);
}

/** Verifies a file on disk against its signed manifest: what the agent does before the switch. */
export async function verifyFile(path: string, s: SignedManifest, key: KeyObject, host: { platform: string; arch: string }): Promise<void> {
  verifyManifest(s, key);
  checkPlatform(s.manifest, host.platform, host.arch);
  checkReceived(s.manifest, await hashFile(path));
}
