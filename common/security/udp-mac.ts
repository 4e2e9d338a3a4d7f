// Alert datagrams are authenticated: the JSON body followed by HMAC-SHA256(key, body), the key
// being agreed per session inside the TLS connection. A forged or altered datagram fails the check.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAC_BYTES = 32;

export function seal(key: Buffer, body: Buffer): Buffer {
  return Buffer.concat([body, createHmac('sha256', key).update(body).digest()]);
}

/** Splits a datagram into body and MAC; null when it is too short to hold one. */
export function split(datagram: Buffer): { body: Buffer; mac: Buffer } | null {
  if (datagram.length <= MAC_BYTES) return null;
  return { body: datagram.subarray(0, datagram.length - MAC_BYTES), mac: datagram.subarray(datagram.length - MAC_BYTES) };
}

export function verify(key: Buffer, body: Buffer, mac: Buffer): boolean {
  const want = createHmac('sha256', key).update(body).digest();
  return mac.length === want.length && timingSafeEqual(mac, want);
}
