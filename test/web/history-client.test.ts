// The page's one history function (web/history.ts), against the answers it may get: today's plain
// samples (bucketed into min/avg/max when there are more than asked for) and a history store's
// roll-ups that carry min/avg/max themselves.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadHistory } from '../../web/history.ts';

let asked = '';
function answer(body: unknown): void {
  globalThis.fetch = (async (url: string) => (asked = String(url), new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }))) as unknown as typeof fetch;
}

const realFetch = globalThis.fetch;
test.after(() => {
  globalThis.fetch = realFetch;
});

test('plain samples, more than asked for: bucketed, with min <= avg <= max', async () => {
  const from = Date.UTC(2026, 0, 1);
  const points = Array.from({ length: 3600 }, (_, i) => ({ at: new Date(from + i * 1000).toISOString(), cpuPercent: i % 100, memPercent: 50, diskPercent: null, netRxRate: 1, netTxRate: 2, processCount: 100 }));
  answer({ points });
  const h = await loadHistory('a', from, from + 3600_000, 60);
  assert.is(h.t.length, 60);
  const cpu = h.fields.cpuPercent;
  assert.ok(cpu.min && cpu.max, 'bands');
  for (let i = 0; i < 60; i++) {
    assert.ok(cpu.min![i]! <= cpu.avg[i]! && cpu.avg[i]! <= cpu.max![i]!, `bucket ${i}`);
  }
  assert.is(cpu.min![0], 0);
  assert.is(cpu.max![0], 59);
  assert.equal(h.fields.diskPercent.avg.slice(0, 3), [null, null, null], 'an unknown value stays unknown, never 0');
});

test('plain samples, fewer than asked for: as they are, no band', async () => {
  const from = 1_000_000;
  answer({ points: [{ at: from + 1000, cpuPercent: 5 }, { at: from + 2000, cpuPercent: 7 }] });
  const h = await loadHistory('a', from, from + 10_000, 100);
  assert.equal(h.t, [(from + 1000) / 1000, (from + 2000) / 1000]);
  assert.equal(h.fields.cpuPercent.avg, [5, 7]);
  assert.is(h.fields.cpuPercent.min, undefined);
});

test('roll-ups with min/avg/max from a history store keep their bands, step and tier', async () => {
  const from = 0;
  answer({ step: 60_000, tier: '1m', points: [{ at: 60_000, cpuPercent: { min: 1, avg: 2, max: 3 } }, { at: 120_000, cpuPercent: { min: 4, avg: 5, max: 9 } }] });
  const h = await loadHistory('a', from, 180_000, 100);
  assert.equal(h.fields.cpuPercent.avg, [2, 5]);
  assert.equal(h.fields.cpuPercent.min, [1, 4]);
  assert.equal(h.fields.cpuPercent.max, [3, 9]);
  assert.is(h.stepMs, 60_000);
  assert.is(h.tier, '1m');
});

test('series=all: per-mount and per-interface series on the headline times, bands from roll-ups, gaps kept as null', async () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  const roll = (at: number, v: number) => ({ at: iso(at), cpuPercent: v, min: { cpuPercent: v - 1 }, max: { cpuPercent: v + 1 } });
  answer({
    step: 60_000, tier: '1m', points: [roll(60_000, 10), roll(120_000, 20), roll(180_000, 30)],
    mounts: [
      { mount: '/', points: [60_000, 120_000, 180_000].map((at, i) => ({ at: iso(at), usedPercent: 40 + i, usedBytes: 1, min: { usedPercent: 39 + i, usedBytes: 1 }, max: { usedPercent: 41 + i, usedBytes: 1 } })) },
      // A mount first seen at the second point: nothing before it, never a made-up 0.
      { mount: '/srv', points: [{ at: iso(120_000), usedPercent: 70, usedBytes: 5, min: { usedPercent: 70 }, max: { usedPercent: 71 } }, { at: iso(180_000), usedPercent: 72, usedBytes: 5, min: { usedPercent: 72 }, max: { usedPercent: 72 } }] },
    ],
    interfaces: [{ name: 'eth0', points: [{ at: iso(180_000), rxRate: 100, txRate: 5, min: { rxRate: 50, txRate: 1 }, max: { rxRate: 200, txRate: 9 } }] }],
  });
  const h = await loadHistory('a', 0, 240_000, 100);
  assert.match(asked, /[?&]series=all(&|$)/, 'asks for the detail series');
  assert.equal(h.mounts, ['/', '/srv']);
  assert.equal(h.interfaces, ['eth0']);
  assert.equal(h.detail['mount:/:usedPercent'], { avg: [40, 41, 42], min: [39, 40, 41], max: [41, 42, 43] });
  assert.equal(h.detail['mount:/srv:usedPercent']!.avg, [null, 70, 72]);
  assert.equal(h.detail['mount:/srv:usedPercent']!.max, [null, 71, 72]);
  assert.equal(h.detail['if:eth0:rxRate'], { avg: [null, null, 100], min: [null, null, 50], max: [null, null, 200] });
  assert.equal(h.detail['if:eth0:txRate']!.avg, [null, null, 5]);
});

test('raw points (no roll-up): detail series without bands', async () => {
  answer({ step: 1000, tier: 'raw', points: [{ at: 1000, cpuPercent: 1 }, { at: 2000, cpuPercent: 2 }], mounts: [{ mount: '/', points: [{ at: 2000, usedPercent: 5, usedBytes: 1 }] }], interfaces: [] });
  const h = await loadHistory('a', 0, 10_000, 100);
  assert.equal(h.detail['mount:/:usedPercent'], { avg: [null, 5] });
});

test.run();
