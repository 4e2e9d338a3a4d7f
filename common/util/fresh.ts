// Whether a reading taken at `at` may still stand in for a new one at `now`: younger than
// `maxAgeMs`, and not from the future (a clock set back makes every cached reading stale).
export function fresh(at: number, now: number, maxAgeMs: number): boolean {
  return now - at < maxAgeMs && now >= at;
}
