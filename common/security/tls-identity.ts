// Each program's TLS identity: an EC P-256 key and a self-signed certificate, made on first start
// and kept in its folder (key 0600). Peers are recognised by the certificate's SHA-256 fingerprint,
// like SSH host keys: no CA to run.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';

export interface TlsIdentity {
  key: string;
  cert: string;
  /** SHA-256 of the certificate, hex pairs separated by colons (as openssl and Node print it) */
  fingerprint: string;
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Normalises a fingerprint typed by a person: case, colons and spaces do not matter. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/^sha256:/i, '').replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new HwError('BAD_FLAG', `"${fp}" is not a SHA-256 fingerprint (64 hex digits)`);
  return hex.match(/../g)!.join(':');
}

export async function loadOrCreateIdentity(dir: string, prefix: string, commonName: string): Promise<TlsIdentity & { created: boolean }> {
  const keyPath = join(dir, `${prefix}-key.pem`);
  const certPath = join(dir, `${prefix}-cert.pem`);
  const hasKey = existsSync(keyPath);
  const hasCert = existsSync(certPath);
  // Half an identity is not replaced silently: the new key would be another machine to its peers.
  const fix = `restore it, or move both ${keyPath} and ${certPath} away to make a new identity (its peers must then trust the new one)`;
  if (hasKey !== hasCert) throw new HwError('STATE_CORRUPT', `${hasKey ? certPath : keyPath} is missing while ${hasKey ? keyPath : certPath} is there; ${fix}`);
  if (hasKey && hasCert) {
    const gone = (p: string) => new HwError('STATE_CORRUPT', `${p} disappeared while being read; ${fix}`);
    const key = readState(keyPath, (t) => { createPrivateKey(t); return t; }, fix) ?? throwIt(gone(keyPath));
    const cert = readState(certPath, (t) => {
      if (!new X509Certificate(t).checkPrivateKey(createPrivateKey(key))) throw new Error(`it does not match the key in ${keyPath}`);
      return t;
    }, fix) ?? throwIt(gone(certPath));
    return { key, cert, fingerprint: fingerprintOf(cert), created: false };
  }
  const notBefore = new Date(Date.now() - 86400_000);
  const notAfter = new Date(Date.now() + 100 * 365 * 86400_000); // pinned by fingerprint: expiry adds nothing
  // Only needed on first start: loaded then, not on every start.
  const selfsigned = (await import('selfsigned')).default;
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName.slice(0, 64) || prefix }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: notBefore, notAfterDate: notAfter,
  });
  writeDurable(keyPath, pems.private, { mode: 0o600 });
  writeDurable(certPath, pems.cert, { mode: 0o644 });
  return { key: pems.private, cert: pems.cert, fingerprint: fingerprintOf(pems.cert), created: true };
}

function throwIt(err: Error): never {
  throw err;
}
