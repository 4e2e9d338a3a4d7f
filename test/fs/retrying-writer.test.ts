// A state file the disk refuses: kept in memory, retried on a timer, one line when it starts
// failing and one when it is written again, never a throw; any write error, not only ENOSPC.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RetryingWriter } from '../../common/fs/retrying-writer.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';
import { FakeTimers, failingWrite } from './failing-fs.helper.ts';

const test = suite('fs/retrying-writer');
test.after.each(() => cleanTempDirs());

test('a healthy disk: written at once, nothing scheduled, nothing logged', () => {
  const path = join(tempDir(), 'state.json');
  const timers = new FakeTimers();
  const log: string[] = [];
  const w = new RetryingWriter({ path, timers, log: (l) => log.push(l) });
  assert.ok(w.write('{"a":1}'));
  assert.is(readFileSync(path, 'utf8'), '{"a":1}');
  assert.not.ok(w.failing);
  assert.is(timers.pending, 0);
  assert.equal(log, []);
});

for (const code of ['ENOSPC', 'EIO', 'EROFS']) {
  test(`${code}: no throw, the newest content lands once the disk takes it, logged once each way`, () => {
    const path = join(tempDir(), 'state.json');
    const fs = failingWrite(code);
    const timers = new FakeTimers();
    const log: string[] = [];
    const w = new RetryingWriter({ path, write: fs.write, timers, retryMs: 250, log: (l) => log.push(l) });
    assert.not.ok(w.write('one'));
    assert.not.ok(w.write('two'));
    assert.is(fs.attempts, 1, 'a write while failing waits for the retry');
    timers.advance(250 * 40);
    assert.is(fs.attempts, 41);
    assert.ok(w.failing);
    assert.not.ok(existsSync(path));
    assert.is(log.length, 1, log.join('\n'));
    assert.ok(log[0]!.includes(path), log[0]);
    assert.match(log[0]!, new RegExp(`${code} \\(.*\\) \\[STORAGE_FAILED\\]; keeping it in memory and trying again every 0\\.25 s$`));
    w.write('three');
    fs.heal();
    timers.advance(250);
    assert.is(readFileSync(path, 'utf8'), 'three');
    assert.not.ok(w.failing);
    assert.is(log.length, 2);
    assert.match(log[1]!, /again \(after 41 failed attempts\)/);
    assert.is(timers.pending, 0);
  });
}

test('a non-storage error (EACCES) is survived the same way', () => {
  const path = join(tempDir(), 'state.json');
  const timers = new FakeTimers();
  let fail = true;
  const log: string[] = [];
  const w = new RetryingWriter({
    path, timers, log: (l) => log.push(l),
    write: () => { if (fail) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }); },
  });
  assert.not.ok(w.write('x'));
  assert.match(log[0]!, /cannot write .*state\.json: EACCES/);
  fail = false;
  timers.advance(10_000);
  assert.not.ok(w.failing);
});

test('close stops the retries; flush tries once more now', () => {
  const path = join(tempDir(), 'state.json');
  const fs = failingWrite('ENOSPC');
  const timers = new FakeTimers();
  const w = new RetryingWriter({ path, write: fs.write, timers });
  w.write('x');
  assert.not.ok(w.flush());
  assert.is(timers.pending, 1);
  fs.heal();
  assert.ok(w.flush());
  assert.is(readFileSync(path, 'utf8'), 'x');
  w.write('y');
  w.close();
  assert.is(timers.pending, 0);
});

test.run();
