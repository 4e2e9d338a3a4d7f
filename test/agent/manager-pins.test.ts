// Manager pins: first contact pinned and kept, a changed certificate refused, and a pin file that
// is there but broken failing closed (never "trust the next manager").
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagerPins, PINS_FILE } from '../../common/agent/manager-pins.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';
import { FakeTimers, failingWrite } from '../fs/failing-fs.helper.ts';

const test = suite('agent/manager-pins');
test.after.each(() => cleanTempDirs());

const FP1 = Array(32).fill('AB').join(':');
const FP2 = Array(32).fill('CD').join(':');

function thrown(fn: () => unknown): HwError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, HwError);
    return err as HwError;
  }
  throw new Error('expected a throw');
}

test('first contact pins and keeps it; another certificate is MANAGER_CHANGED, then and after a restart', () => {
  const dir = tempDir();
  const pins = new ManagerPins({ stateDir: dir });
  assert.equal(pins.check('10.0.0.5:5005', FP1), { pinned: true });
  assert.equal(pins.check('10.0.0.5:5005', FP1), {});
  assert.is(pins.check('10.0.0.5:5005', FP2).error?.code, 'MANAGER_CHANGED');
  assert.equal(JSON.parse(readFileSync(join(dir, PINS_FILE), 'utf8')), { '10.0.0.5:5005': FP1 });
  assert.is(new ManagerPins({ stateDir: dir }).check('10.0.0.5:5005', FP2).error?.code, 'MANAGER_CHANGED');
});

test('a broken or unreadable pin file: STATE_CORRUPT naming the file and the ways out', () => {
  const dir = tempDir();
  const path = join(dir, PINS_FILE);
  for (const text of ['{"10.0.0.5:5005": "AB:C', '[]', '"x"', '{"10.0.0.5:5005": "not a fingerprint"}', '{"a": 5}', '']) {
    writeFileSync(path, text);
    const e = thrown(() => new ManagerPins({ stateDir: dir }));
    assert.is(e.code, 'STATE_CORRUPT', text);
    assert.ok(e.message.includes(path), e.message);
    assert.match(e.message, /--manager-fingerprint/);
    assert.match(e.message, /delete the file to trust on first use again/);
    assert.is(readFileSync(path, 'utf8'), text, 'left as it was');
  }
  const other = tempDir();
  mkdirSync(join(other, PINS_FILE)); // there, but not readable as a file (EISDIR)
  assert.is(thrown(() => new ManagerPins({ stateDir: other })).code, 'STATE_CORRUPT');
});

test('with --manager-fingerprint the pin file plays no part: a broken one does not stop the agent', () => {
  const dir = tempDir();
  writeFileSync(join(dir, PINS_FILE), '{broken');
  const pins = new ManagerPins({ stateDir: dir, expected: [FP1] });
  assert.equal(pins.check('m:1', FP1), {});
  assert.is(pins.check('m:1', FP2).error?.code, 'MANAGER_CHANGED');
  assert.is(readFileSync(join(dir, PINS_FILE), 'utf8'), '{broken');
});

test('a disk that refuses the pin file: the pin holds in memory, the write is retried until it lands', () => {
  const dir = tempDir();
  const fs = failingWrite('ENOSPC');
  const timers = new FakeTimers();
  const log: string[] = [];
  const pins = new ManagerPins({ stateDir: dir, write: fs.write, timers, retryMs: 1000, log: (l) => log.push(l) });
  assert.equal(pins.check('m:1', FP1), { pinned: true });
  assert.is(pins.check('m:1', FP2).error?.code, 'MANAGER_CHANGED', 'still enforced');
  timers.advance(5000);
  assert.is(log.length, 1);
  fs.heal();
  timers.advance(1000);
  assert.equal(JSON.parse(readFileSync(join(dir, PINS_FILE), 'utf8')), { 'm:1': FP1 });
});

test.run();
