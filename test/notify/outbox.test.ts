// The durable outbox: replay after a restart, a torn or corrupt tail cut off at every byte, the
// bound on items and bytes, compaction, and a full disk that neither throws nor loses an item;
// the mark of the newest alert queued, written with its items and kept through all of that.
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { frameRecord, Outbox, readRecords } from '../../common/notify/outbox.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('notify/outbox');
test.after(() => cleanTempDirs());

const keys = (o: Outbox, d: string) => o.list(d).map((i) => i.key);

test('items survive a restart: puts replace by key, removes stay removed, order kept per destination', () => {
  const dir = tempDir();
  const o = new Outbox({ dir });
  o.put('a', 'd1', { n: 1 });
  o.put('b', 'd2', { n: 2 });
  o.put('c', 'd1', { n: 3 });
  o.put('a', 'd1', { n: 4 }); // replaced: moves behind c
  o.remove('c');
  o.close();
  const p = new Outbox({ dir });
  assert.equal(keys(p, 'd1'), ['a']);
  assert.equal(p.get('a')!.body, { n: 4 });
  assert.equal(keys(p, 'd2'), ['b']);
  assert.is(p.count(), 2);
  assert.is(p.first('d2')!.key, 'b');
  p.close();
});

test('a log cut at every byte offset replays the whole records before the cut, then appends after them', () => {
  const dir = tempDir();
  const o = new Outbox({ dir });
  for (let i = 0; i < 5; i++) o.put(`k${i}`, 'd', { i, pad: 'x'.repeat(i * 7) });
  o.close();
  const path = join(dir, 'outbox.log');
  const full = readFileSync(path);
  const ends: number[] = [];
  let off = 0;
  while (off < full.length) {
    off += 8 + full.readUInt32BE(off);
    ends.push(off);
  }
  for (let cut = 0; cut <= full.length; cut++) {
    writeFileSync(path, full.subarray(0, cut));
    const p = new Outbox({ dir });
    const whole = ends.filter((e) => e <= cut).length;
    assert.is(p.count(), whole, `cut at ${cut}`);
    assert.is(p.skippedBytes, cut - (ends[whole - 1] ?? 0));
    p.put('new', 'd', {});
    p.close();
    assert.is(new Outbox({ dir }).count(), whole + 1, `an item written after the cut at ${cut} is read back`);
  }
});

test('a flipped byte stops the replay at that record; random garbage never throws', () => {
  const r = readRecords(Buffer.concat([frameRecord({ o: 'p', k: 'a', d: 'd', t: 1, b: 1 }), frameRecord({ o: 'p', k: 'b', d: 'd', t: 1, b: 2 })]));
  assert.is(r.records.length, 2);
  const bad = Buffer.concat([frameRecord({ a: 1 }), frameRecord({ b: 2 })]);
  bad[bad.length - 3] ^= 0xff;
  assert.is(readRecords(bad).records.length, 1);
  const huge = Buffer.alloc(16);
  huge.writeUInt32BE(0xffffffff, 0);
  assert.is(readRecords(huge).goodBytes, 0, 'a bad length is rejected at the header');
  for (let i = 0; i < 300; i++) {
    const junk = Buffer.from(Array.from({ length: Math.floor(Math.random() * 200) }, () => Math.floor(Math.random() * 256)));
    readRecords(junk);
  }
});

test('bounded: past the item or byte limit the oldest are dropped and counted per destination', () => {
  const dir = tempDir();
  const o = new Outbox({ dir, maxItems: 3 });
  for (let i = 0; i < 5; i++) o.put(`k${i}`, i % 2 ? 'odd' : 'even', { i });
  assert.equal([...keys(o, 'even'), ...keys(o, 'odd')].sort(), ['k2', 'k3', 'k4']);
  assert.is(o.dropped('even') + o.dropped('odd'), 2);
  o.close();
  assert.is(new Outbox({ dir }).count(), 3, 'the file holds the bounded set too');
  const b = new Outbox({ dir: tempDir(), maxBytes: 2000 });
  for (let i = 0; i < 50; i++) b.put(`k${i}`, 'd', { pad: 'y'.repeat(100) });
  assert.ok(b.figures().bytes <= 2000);
  assert.ok(b.count() > 5 && b.count() < 20);
  assert.is(b.dropped('d'), 50 - b.count());
  assert.throws(() => b.put('big', 'd', { pad: 'z'.repeat(300 * 1024) }), (e: any) => e.code === 'BAD_ARGS');
  b.close();
});

test('the log is compacted when it holds mostly removed items', () => {
  const dir = tempDir();
  const o = new Outbox({ dir });
  const pad = 'p'.repeat(2000);
  for (let i = 0; i < 2000; i++) {
    o.put(`k${i}`, 'd', { pad });
    if (i > 0) o.remove(`k${i - 1}`);
  }
  o.close();
  assert.ok(statSync(join(dir, 'outbox.log')).size < 1.2 * 1024 * 1024, 'rewritten, not 4 MB of dead records');
  assert.equal(keys(new Outbox({ dir }), 'd'), ['k1999']);
});

test('a full disk: nothing thrown, items kept and delivered from memory, the file rewritten once the disk takes it', () => {
  const dir = tempDir();
  let full = false;
  const notes: (string | null)[] = [];
  const enospc = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  const o = new Outbox({
    dir, onStorage: (e) => notes.push(e),
    io: {
      append: (_fd, buf) => {
        if (full) {
          appendFileSync(join(dir, 'outbox.log'), buf.subarray(0, 5)); // a torn write, as a full disk leaves
          throw enospc();
        }
        appendFileSync(join(dir, 'outbox.log'), buf);
      },
      replace: (path, data) => {
        if (full) throw enospc();
        writeFileSync(path, data);
      },
    },
  });
  o.put('a', 'd', 1);
  full = true;
  o.put('b', 'd', 2);
  o.put('c', 'd', 3);
  o.remove('a');
  assert.equal(keys(o, 'd'), ['b', 'c'], 'in memory all along');
  assert.match(o.storageError ?? '', /STORAGE|disk full/);
  assert.is(notes.length, 1, 'told once');
  o.retryStorage();
  full = false;
  o.retryStorage();
  assert.is(o.storageError, null);
  assert.equal(notes, [notes[0]!, null]);
  o.close();
  assert.equal(keys(new Outbox({ dir }), 'd'), ['b', 'c'], 'the torn write is gone and nothing was lost');
});

test('an unreadable outbox fails closed with STATE_CORRUPT', () => {
  const dir = tempDir();
  const path = join(dir, 'outbox.log');
  writeFileSync(path, '');
  truncateSync(path, 0);
  assert.is(new Outbox({ dir }).count(), 0, 'an empty file is an empty outbox');
  assert.throws(() => new Outbox({ dir: join(dir, 'outbox.log') }), (e: any) => e.code === 'STATE_CORRUPT');
});


test('the mark: unknown in a new outbox; written with its items in one append; kept across restarts, rewrites and compaction; forgotten on demand', () => {
  const dir = tempDir();
  const writes: Buffer[] = [];
  const path = join(dir, 'outbox.log');
  const o = new Outbox({ dir, io: { append: (_fd, buf) => { writes.push(buf); appendFileSync(path, buf); } } });
  assert.is(o.mark, undefined, 'a new outbox knows no mark');
  o.queue(7, () => {
    o.put('a', 'd1', { n: 7 });
    o.put('b', 'd2', { n: 7 });
  });
  assert.is(o.mark, 7);
  assert.is(writes.length, 1, 'the items and the mark in one write');
  assert.equal(readRecords(writes[0]!).records.map((r: any) => r.o), ['p', 'p', 'm']);
  o.queue(undefined, () => o.put('c', 'd1', { n: 8 }));
  assert.is(o.mark, 7, 'undefined leaves the mark alone');
  o.close();
  const p = new Outbox({ dir });
  assert.is(p.mark, 7, 'read back');
  assert.equal(keys(p, 'd1'), ['a', 'c']);
  p.setMark(9);
  // Compaction rewrites the file from memory: the mark goes with it.
  const pad = 'p'.repeat(2000);
  for (let i = 0; i < 2000; i++) {
    p.put(`k${i}`, 'd3', { pad });
    p.remove(`k${i}`);
  }
  p.close();
  assert.ok(statSync(path).size < 1024 * 1024, 'compacted');
  const q = new Outbox({ dir, maxItems: 2 });
  assert.is(q.mark, 9, 'kept through compaction');
  assert.is(q.dropped('d1') + q.dropped('d2'), 1, 'the bound rewrote the file');
  q.close();
  const r = new Outbox({ dir });
  assert.is(r.mark, 9, 'and through the bound\'s rewrite');
  r.forgetMark();
  r.close();
  assert.is(new Outbox({ dir }).mark, undefined, 'forgotten');
});

test('the mark cut at every byte of its append: where it is read back, so is every item written with it', () => {
  const dir = tempDir();
  const o = new Outbox({ dir });
  o.queue(1, () => o.put('a', 'd', { n: 1 }));
  o.close();
  const path = join(dir, 'outbox.log');
  const before = readFileSync(path).length;
  const p = new Outbox({ dir });
  p.queue(2, () => {
    p.put('b', 'd', { n: 2, pad: 'x'.repeat(100) });
    p.put('c', 'e', { n: 2 });
  });
  p.close();
  const full = readFileSync(path);
  for (let cut = before; cut <= full.length; cut++) {
    writeFileSync(path, full.subarray(0, cut));
    const r = new Outbox({ dir });
    if (r.mark === 2) assert.ok(r.get('b') && r.get('c'), `cut at ${cut}: the mark and both items`);
    else assert.is(r.mark, 1, `cut at ${cut}: the old mark, so the alert is queued again`);
    assert.is(r.mark === 2, cut === full.length, `cut at ${cut}`);
    r.close();
  }
});

test('a full disk during a queue: the mark is kept in memory and written with the whole log once the disk takes it', () => {
  const dir = tempDir();
  let full = false;
  const enospc = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  const o = new Outbox({
    dir,
    io: {
      append: (_fd, buf) => {
        if (full) throw enospc();
        appendFileSync(join(dir, 'outbox.log'), buf);
      },
      replace: (path, data) => {
        if (full) throw enospc();
        writeFileSync(path, data);
      },
    },
  });
  o.queue(3, () => o.put('a', 'd', 1));
  full = true;
  o.queue(4, () => o.put('b', 'd', 2));
  assert.is(o.mark, 4);
  assert.ok(o.storageError);
  full = false;
  o.retryStorage();
  o.close();
  const p = new Outbox({ dir });
  assert.is(p.mark, 4);
  assert.equal(keys(p, 'd'), ['a', 'b']);
});

test.run();
