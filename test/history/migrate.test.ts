import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { migrateOldHistory, parseOldHistory } from '../../common/history/migrate.ts';
import { agentHistory } from '../../common/history/query.ts';
import { HistoryStore } from '../../common/history/store.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

/** history.bin as the previous version wrote it (big-endian; NaN for a missing value). */
function oldFile(agents: [string, { at: number; cpu: number; backfill?: boolean }[]][]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32BE(0x48574831, 0);
  head.writeUInt32BE(agents.length, 4);
  parts.push(head);
  for (const [id, pts] of agents) {
    const idBuf = Buffer.from(id);
    const b = Buffer.alloc(2 + idBuf.length + 4 + pts.length * (8 + 32 + 1));
    let o = b.writeUInt16BE(idBuf.length, 0);
    o += idBuf.copy(b, o);
    o = b.writeUInt32BE(pts.length, o);
    for (const p of pts) {
      o = b.writeDoubleBE(p.at, o);
      for (const v of [p.cpu, 50, NaN, 1, 2, 3, 4, 99]) o = b.writeFloatBE(v, o);
      o = b.writeUInt8(p.backfill ? 1 : 0, o);
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

test('history.bin is moved into the store once, then renamed', () => {
  const dir = tempDir('hw-mig-');
  const now = Date.now();
  const pts = Array.from({ length: 30 }, (_, i) => ({ at: now - 300_000 + i * 5000, cpu: i, backfill: i < 3 }));
  const path = join(dir, 'history.bin');
  writeFileSync(path, oldFile([['a1', pts], ['gone', pts.slice(0, 2)]]));
  const store = new HistoryStore({ dir: join(dir, 'history'), timer: false });
  const notes: string[] = [];
  assert.is(migrateOldHistory(path, store, (id) => id === 'a1', (l) => notes.push(l)), 30);
  assert.not.ok(existsSync(path));
  assert.ok(existsSync(`${path}.migrated`));
  assert.ok(notes[0]!.includes('moved 30 samples'));
  const h = agentHistory(store, 'a1', { from: now - 600_000, to: now, points: 1000 }, false);
  assert.is(h.points.length, 30);
  assert.is(h.step, 5000, 'the interval is read from the samples');
  assert.is(h.points[4]!.cpuPercent, 4);
  assert.is(h.points[4]!.diskPercent, null);
  assert.is(h.points[4]!.processCount, 99);
  assert.is(h.points[0]!.backfill, true);
  assert.is(migrateOldHistory(path, store, () => true, () => {}), 0, 'only once');
  store.close();
});

test('a truncated history.bin keeps what came before the cut', () => {
  const b = oldFile([['a1', [{ at: 1000, cpu: 1 }, { at: 2000, cpu: 2 }]], ['a2', [{ at: 1000, cpu: 3 }]]]);
  const m = parseOldHistory(b.subarray(0, b.length - 10));
  assert.is(m.get('a1')!.length, 2);
  assert.is(m.get('a2')!.length, 0);
  assert.equal(parseOldHistory(Buffer.from('nope')).size, 0);
});

test.run();
