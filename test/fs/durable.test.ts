import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isStorageError, readState, storageError, writeDurable } from '../../common/fs/durable.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('fs/durable');
test.after(() => cleanTempDirs());

test('writes the whole content with the mode asked, replacing the old file and leaving no temp file', () => {
  const dir = tempDir();
  const path = join(dir, 'state.json');
  writeDurable(path, 'old');
  writeDurable(path, Buffer.alloc(300_000, 7), { mode: 0o600 });
  assert.is(readFileSync(path).length, 300_000);
  assert.is(statSync(path).mode & 0o777, 0o600);
  assert.equal(readdirSync(dir), ['state.json']);
});

test('a write that cannot happen leaves the old file and no temp file', () => {
  if (process.getuid?.() === 0) return; // root writes into a read-only folder anyway
  const dir = tempDir();
  const path = join(dir, 'state.json');
  writeDurable(path, 'old');
  chmodSync(dir, 0o500);
  try {
    assert.throws(() => writeDurable(path, 'new'));
  } finally {
    chmodSync(dir, 0o700);
  }
  assert.is(readFileSync(path, 'utf8'), 'old');
});

test('storage errors are coded STORAGE_FAILED with the file named; others pass through', () => {
  const full = Object.assign(new Error('no space'), { code: 'ENOSPC' });
  assert.ok(isStorageError(full));
  const e = storageError(full, '/x/alerts.json') as { code: string; message: string };
  assert.is(e.code, 'STORAGE_FAILED');
  assert.match(e.message, /alerts\.json.*disk full/);
  const other = Object.assign(new Error('nope'), { code: 'EACCES' });
  assert.not.ok(isStorageError(other));
  assert.is(storageError(other, 'f'), other);
});

test('readState: missing is undefined, corrupt fails closed naming the file and the fix', () => {
  const dir = tempDir();
  const path = join(dir, 'pins.json');
  assert.is(readState(path, JSON.parse, 'delete it'), undefined);
  writeFileSync(path, '{"a":1}');
  assert.equal(readState(path, JSON.parse, 'delete it'), { a: 1 });
  writeFileSync(path, '{"a":');
  try {
    readState(path, JSON.parse, 'delete it to pin again');
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'STATE_CORRUPT');
    assert.match((err as Error).message, /pins\.json.*delete it to pin again/);
  }
  assert.ok(existsSync(path), 'the file is left for the administrator');
});

test.run();
