// Comparing secrets (API and enrollment tokens, CSRF tokens, the metrics token) without leaking
// through timing how much of a guess was right.

import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison (hashing first makes the lengths equal). */
export function secretMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
