import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { isStorageError, readState, removeStaleTemps, storageError, writeDurable } from '../../common/fs/durable.ts';
import { tempDir, timed } from '../harness.helper.ts';
import { cleanupAfterEach, serveTest } from '../e2e/inproc.helper.ts';

const test = suite('fs/durable');
const { closers } = cleanupAfterEach(test);

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

/** A process that ran and is gone: its pid names a temp file nobody is writing. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid!;
  await once(child, 'exit');
  return pid;
}

/** A process still running, until the test kills it. */
function livePid(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  closers.push(() => void child.kill('SIGKILL'));
  return child.pid!;
}

test('removeStaleTemps removes the temp files of processes gone (and our own pid\'s), keeps a live one\'s and every other file', timed(20_000, async () => {
  const dir = tempDir();
  const dead = await deadPid();
  const live = livePid();
  const lines: string[] = [];
  for (const name of [`agents.json.tmp-${dead}`, `users.json.tmp-${process.pid}`, `silences.json.tmp-${live}`, 'agents.json', 'notes.tmp-x', 'outbox.log']) writeFileSync(join(dir, name), 'x');
  assert.is(removeStaleTemps(dir, (l) => lines.push(l)), 2);
  assert.equal(readdirSync(dir).sort(), ['agents.json', 'notes.tmp-x', 'outbox.log', `silences.json.tmp-${live}`]);
  assert.equal(lines, [`removed 2 temporary files left in ${dir} by interrupted writes`]);
  assert.is(removeStaleTemps(dir, (l) => lines.push(l)), 0, 'nothing left to remove');
  assert.is(lines.length, 1, 'and nothing said');
  assert.is(removeStaleTemps(join(dir, 'no-such-folder')), 0, 'a folder not made yet has none');
}));

test('the manager\'s start removes a temp file an interrupted write left in its data folder', timed(30_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  const dead = await deadPid();
  const live = livePid();
  writeFileSync(join(dataDir, `agents.json.tmp-${dead}`), '{"agents": [');
  writeFileSync(join(dataDir, `users.json.tmp-${live}`), '{"users": [');
  const s = await serveTest({ dataDir });
  closers.push(s.close);
  assert.not.ok(existsSync(join(dataDir, `agents.json.tmp-${dead}`)), 'the dead writer\'s temp file is gone');
  assert.ok(existsSync(join(dataDir, `users.json.tmp-${live}`)), 'a running writer\'s is kept');
}));

test.run();
