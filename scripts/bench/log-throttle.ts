// Log throttle under a flood of distinct refused addresses (spoofed UDP sources cost an attacker
// nothing, IPv6 gives them unlimited ones): every note() of a new key within one period, at
// growing flood sizes. Linear time means the cost per note stays flat as the flood grows past the
// table's cap; a prune over the whole table per note (an old bug), or eviction walking the Map's
// deleted slots per note, made it grow with the table.

import { LogThrottle } from '../../common/util/throttle.ts';
import { quantile } from './procs.ts';
import { table, type Ctx, type Goal, type Outcome, type Scenario } from './report.ts';

/** ns per note() for `keys` distinct addresses within one period; best of `rounds` (the machine may be busy). */
function perNote(keys: number, rounds: number): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = 1_000_000;
    const log = new LogThrottle({ now: () => t, periodMs: 60_000 });
    const names = Array.from({ length: keys }, (_, i) => `udp:2001:db8::${i.toString(16)}`);
    const t0 = performance.now();
    for (let i = 0; i < keys; i++) {
      log.note(names[i]!);
      t += 1;
    }
    times.push(((performance.now() - t0) * 1e6) / keys);
  }
  return quantile(times, 0);
}

export const logThrottle: Scenario = {
  id: 'log-throttle',
  title: 'Log throttle: a flood of distinct refused addresses',
  async run(ctx: Ctx): Promise<Outcome> {
    const sizes = ctx.quick ? [2_000, 20_000, 100_000] : [2_000, 20_000, 200_000, 1_000_000];
    const rounds = ctx.quick ? 3 : 7;
    perNote(sizes[0]!, 3); // warm up: the first rounds measure the compiler, not the throttle
    const rows = sizes.map((n) => {
      const ns = perNote(n, rounds);
      ctx.log(`log-throttle: ${n} keys: ${ns.toFixed(0)} ns a note`);
      return { n, ns };
    });
    const below = rows[0]!;
    const at20k = rows.find((r) => r.n === 20_000)!;
    const last = rows.at(-1)!;
    const ratio = last.ns / at20k.ns;
    const goals: Goal[] = [{
      goal: '20,000 distinct refused addresses within one period cost linear time (the cost per note flat as the flood grows)',
      figure: `${(at20k.ns * 20_000 / 1e6).toFixed(1)} ms for 20,000 (${at20k.ns.toFixed(0)} ns a note; ${below.ns.toFixed(0)} ns below the cap), `
        + `${last.ns.toFixed(0)} ns a note at ${last.n.toLocaleString('en-US')} (${ratio.toFixed(1)}x)`,
      // Flat within the noise of a shared machine; evicting one key per note was 15 times dearer at 20,000 and 50 at 1,000,000.
      met: ratio < 3,
    }];
    return {
      body: [
        `Distinct addresses noted within one 60 s period (an injected clock, one call a key), best of ${rounds} rounds per size;`,
        'the throttle keeps at most 10,000 keys, evicting the oldest tenth at a time, so past that size notes also evict.',
        '',
        ...table(['keys', 'ns a note', 'total ms'], rows.map((r) => [r.n.toLocaleString('en-US'), r.ns.toFixed(0), (r.ns * r.n / 1e6).toFixed(1)])),
        '',
      ],
      goals,
      commands: [],
    };
  },
};
