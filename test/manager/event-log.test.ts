// The manager's JSONL record: what is appended reads back, a torn last line is skipped and the next
// record starts on a fresh line, foreign lines are ignored, and read-back can be limited to the tail.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventLog, type LoggedEvent } from '../../common/manager/event-log.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('manager/event-log');
test.after.each(() => cleanTempDirs());

const ev = (n: number, extra: Record<string, unknown> = {}): LoggedEvent => ({ at: 1_700_000_000_000 + n, event: 'alert', n, ...extra });

test('no file yet: read-back is empty and nothing is created until open()', () => {
  const path = join(tempDir(), 'events.jsonl');
  const log = new EventLog(path);
  assert.equal(log.readBack(), []);
  assert.not.ok(existsSync(path));
  log.append(ev(1)); // not open: ignored rather than thrown
  assert.not.ok(existsSync(path));
});

test('append then read back: same events, one JSON object a line, private file', () => {
  const path = join(tempDir(), 'events.jsonl');
  const log = new EventLog(path);
  log.readBack();
  log.open();
  const events = [ev(1), ev(2, { agent: { id: 'a', name: 'wéb 1' } }), { at: 3, event: 'connect', text: 'line\nbreak "quoted"' }];
  log.append(events[0]!);
  log.append(events[1]!, true);
  log.append(events[2]!);
  log.flush();
  log.close();
  const text = readFileSync(path, 'utf8');
  assert.is(text.split('\n').length, 4, 'three lines and a final newline');
  assert.ok(text.endsWith('\n'));
  assert.equal(new EventLog(path).readBack(), events);
  if (process.platform !== 'win32') assert.is(statSync(path).mode & 0o777, 0o600);
  // Reopening appends after what is there.
  const again = new EventLog(path);
  again.readBack();
  again.open();
  again.append(ev(4));
  again.close();
  assert.equal(new EventLog(path).readBack(), [...events, ev(4)]);
});

test('a torn last line is skipped, and the next append starts on a fresh line', () => {
  const path = join(tempDir(), 'events.jsonl');
  writeFileSync(path, `${JSON.stringify(ev(1))}\n${JSON.stringify(ev(2))}\n`);
  appendFileSync(path, JSON.stringify(ev(3)).slice(0, 17)); // a crash mid-write: half a line, no newline
  const log = new EventLog(path);
  assert.equal(log.readBack(), [ev(1), ev(2)]);
  log.open();
  log.append(ev(4), true);
  log.close();
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.is(lines[2], JSON.stringify(ev(3)).slice(0, 17), 'the torn fragment stays on its own line');
  assert.is(lines[3], JSON.stringify(ev(4)));
  assert.equal(new EventLog(path).readBack(), [ev(1), ev(2), ev(4)]);
});

test('a whole file without a torn line gets no blank line on reopen', () => {
  const path = join(tempDir(), 'events.jsonl');
  writeFileSync(path, `${JSON.stringify(ev(1))}\n`);
  const log = new EventLog(path);
  log.readBack();
  log.open();
  log.append(ev(2));
  log.close();
  assert.is(readFileSync(path, 'utf8'), `${JSON.stringify(ev(1))}\n${JSON.stringify(ev(2))}\n`);
});

test('foreign lines are skipped: not JSON, not an object, no event name, blank', () => {
  const path = join(tempDir(), 'events.jsonl');
  writeFileSync(path, [
    JSON.stringify(ev(1)), 'garbage', '[1,2,3]', '{"at":5}', '{"event":7}', '', 'null', '"string"', JSON.stringify(ev(2)), '',
  ].join('\n'));
  assert.equal(new EventLog(path).readBack(), [ev(1), ev(2)]);
});

test('read-back limited to the tail: only whole lines from the end, the cut one dropped', () => {
  const path = join(tempDir(), 'events.jsonl');
  const all = Array.from({ length: 100 }, (_, i) => ev(i, { pad: 'x'.repeat(i % 7) }));
  writeFileSync(path, all.map((e) => JSON.stringify(e) + '\n').join(''));
  const size = statSync(path).size;
  const tail = new EventLog(path).readBack(Math.floor(size / 3));
  assert.ok(tail.length > 20 && tail.length < 40, `${tail.length} events`);
  assert.equal(tail, all.slice(all.length - tail.length), 'a contiguous run ending with the last event');
  // Multi-byte characters cut in half at the window's start do not break the rest.
  const path2 = join(tempDir(), 'utf8.jsonl');
  const wide = Array.from({ length: 50 }, (_, i) => ev(i, { s: 'ü✓'.repeat(10) }));
  writeFileSync(path2, wide.map((e) => JSON.stringify(e) + '\n').join(''));
  for (let cut = 1; cut < 60; cut++) {
    const got = new EventLog(path2).readBack(statSync(path2).size - cut);
    assert.equal(got, wide.slice(wide.length - got.length), `cut ${cut}`);
    assert.ok(got.length >= 48, `cut ${cut}: ${got.length}`);
  }
});

// Regression test (a bug, now fixed, in common/manager/event-log.ts readBack, the `text.slice(text.indexOf('\n') + 1)` line): when the
// tail window starts exactly at the beginning of a line, that whole line is dropped as if it were
// cut. Suggested fix: read one byte more (from size - maxBytes - 1) and drop the first line only
// when that byte is not '\n'.
test('a tail window that starts on a line boundary keeps that line', () => {
  const path = join(tempDir(), 'events.jsonl');
  const lines = [ev(1), ev(2), ev(3)].map((e) => JSON.stringify(e) + '\n');
  writeFileSync(path, lines.join(''));
  const window = lines[1]!.length + lines[2]!.length;
  assert.equal(new EventLog(path).readBack(window), [ev(2), ev(3)]);
});

test.run();
