// The record on a failing disk (an injected file system: EIO and EROFS cannot be made on demand
// here), its rotation by size, and a read-back bounded by bytes however long the record is.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { EventLog, NOT_WRITTEN, type LogFs, type StorageStatus } from '../../common/manager/event-log.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';

const test = suite('manager/event-log-storage');
test.after.each(() => cleanTempDirs());

const ev = (n: number) => ({ at: 1_700_000_000_000 + n, event: 'alert', n });
const lines = (path: string) => fs.readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).n as number);

/** The real file system, with writes (and fdatasync) failing with `code` while `failing` is set. */
function failingFs(): { fs: LogFs; fail: (code: string | null, partial?: boolean) => void } {
  let code: string | null = null;
  let partial = false;
  const err = () => Object.assign(new Error(`${code}: injected`), { code });
  const wrapped: LogFs = {
    ...fs,
    writeSync: ((fd: number, buf: Buffer, offset?: number, length?: number) => {
      const off = offset ?? 0;
      const len = length ?? buf.length - off;
      if (code) {
        // A full disk may take part of a write before it refuses the rest.
        if (partial && len > 4) {
          partial = false;
          return fs.writeSync(fd, buf, off, 4);
        }
        throw err();
      }
      return fs.writeSync(fd, buf, off, len);
    }) as LogFs['writeSync'],
    fdatasyncSync: ((fd: number) => {
      if (code) throw err();
      return fs.fdatasyncSync(fd);
    }) as LogFs['fdatasyncSync'],
  };
  return { fs: wrapped, fail: (c, p = false) => { code = c; partial = p; } };
}

for (const code of ['EIO', 'ENOSPC', 'EROFS']) {
  test(`${code}: nothing thrown, records held in order, not durable; written once the disk is back`, timed(10_000, async () => {
    const path = join(tempDir(), 'events.jsonl');
    const f = failingFs();
    const told: [string, StorageStatus][] = [];
    const log = new EventLog(path, { fs: f.fs, retryMs: 20, onStorage: (s, what) => told.push([what, s]) });
    log.open();
    const n1 = log.append(ev(1), true);
    assert.ok(log.isDurable(n1));
    f.fail(code, true);
    const n2 = log.append(ev(2), true);
    const n3 = log.append(ev(3), true);
    assert.not.ok(log.isDurable(n2), 'not on disk: not to be acknowledged');
    assert.not.ok(log.isDurable(n3));
    const st = log.status();
    assert.is(st.ok, false);
    assert.is(st.error, code);
    assert.is(st.heldRecords, 2);
    await Promise.resolve();
    assert.equal(told.map(([w]) => w), ['failing']);
    await new Promise((r) => setTimeout(r, 100)); // a few retries fail too
    assert.not.ok(log.isDurable(n2));
    f.fail(null);
    await waitFor(() => log.isDurable(n3), 5000, 'held records written after the disk is back');
    assert.equal(told.map(([w]) => w), ['failing', 'recovered']);
    assert.is(told[1]![1].heldRecords, 2, 'the recovery says how much was held');
    log.append(ev(4), true);
    log.close();
    // The partial write left a torn fragment: skipped, every record exactly once, in order.
    assert.equal(new EventLog(path).readBack().map((e) => e.n), [1, 2, 3, 4]);
  }));
}

test('held records are bounded: past the bound a record is dropped and counted, never thrown', () => {
  const path = join(tempDir(), 'events.jsonl');
  const f = failingFs();
  const log = new EventLog(path, { fs: f.fs, retryMs: 60_000, holdMaxBytes: 300 });
  log.open();
  f.fail('ENOSPC');
  const got = Array.from({ length: 20 }, (_, i) => log.append(ev(i)));
  assert.ok(got.includes(NOT_WRITTEN));
  assert.ok(log.status().droppedRecords > 0);
  assert.ok(log.status().heldBytes <= 300);
  assert.not.ok(log.canHold(300), 'the caller is told to refuse (an alert then stays on its agent)');
  log.close();
});

test('rotation by size: events.jsonl.1 .. .N kept, the oldest dropped, nothing lost in between', () => {
  const dir = tempDir();
  const path = join(dir, 'events.jsonl');
  const log = new EventLog(path, { maxBytes: 1000, keep: 2 });
  log.open();
  for (let i = 1; i <= 100; i++) log.append(ev(i));
  log.close();
  const files = fs.readdirSync(dir).sort();
  assert.equal(files, ['events.jsonl', 'events.jsonl.1', 'events.jsonl.2']);
  for (const f of files) assert.ok(fs.statSync(join(dir, f)).size < 1100, `${f} near the limit`);
  const all = [...lines(`${path}.2`), ...lines(`${path}.1`), ...lines(path)];
  assert.equal(all, Array.from({ length: all.length }, (_, i) => 100 - all.length + 1 + i), 'consecutive, newest last');
  // Read-back spans the rotated files, oldest first.
  assert.equal(new EventLog(path, { keep: 2 }).readBack().map((e) => e.n), all);
});

test('read-back takes only the newest bytes: start time does not grow with the record', () => {
  const path = join(tempDir(), 'events.jsonl');
  const big = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(ev(i + 1))).join('\n') + '\n';
  fs.writeFileSync(path, big);
  const back = new EventLog(path).readBack(4096);
  assert.ok(back.length > 10 && back.length < 200, `${back.length} events from 4 KiB`);
  assert.is(back.at(-1)!.n, 20_000, 'the newest');
  assert.is((back[1]!.n as number) - (back[0]!.n as number), 1, 'whole lines only');
});

test.run();
