import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcFile } from '../../common/collect/proc-file.ts';
import { parseCpuTimes, parseMeminfo, parseNetDev, parseUptime } from '../../common/collect/proc-linux.ts';
import { cleanTempDirs, codeOf, openFds, tempDir } from '../harness.helper.ts';

const test = suite('collect/proc-file');
test.after(cleanTempDirs);
const onLinux = process.platform === 'linux';

test('real /proc/stat: each read is a fresh snapshot from one open descriptor, same text as readFileSync', () => {
  if (!onLinux) return;
  const f = new ProcFile('/proc/stat');
  const a = parseCpuTimes(f.read());
  const busy = Date.now() + 30;
  while (Date.now() < busy); // at least a few jiffies pass
  const b = parseCpuTimes(f.read());
  assert.ok(b.total > a.total, `total moved: ${a.total} -> ${b.total}`);
  const fromFs = parseCpuTimes(readFileSync('/proc/stat', 'latin1'));
  assert.ok(fromFs.total >= b.total);
  f.close();
});

test('real /proc: uptime, meminfo and net/dev agree with readFileSync', () => {
  if (!onLinux) return;
  const up = new ProcFile('/proc/uptime');
  const mine = parseUptime(up.read());
  const theirs = parseUptime(readFileSync('/proc/uptime', 'utf8'));
  assert.ok(Math.abs(theirs - mine) < 1, `${mine} vs ${theirs}`);
  const mem = new ProcFile('/proc/meminfo');
  assert.is(parseMeminfo(mem.read()).totalBytes, parseMeminfo(readFileSync('/proc/meminfo', 'utf8')).totalBytes);
  const dev = new ProcFile('/proc/net/dev');
  assert.equal(parseNetDev(dev.read()).map((i) => i.name), parseNetDev(readFileSync('/proc/net/dev', 'utf8')).map((i) => i.name));
  for (const f of [up, mem, dev]) f.close();
});

test('real /proc: a buffer smaller than the file grows, and a seq file read in pieces is whole', () => {
  if (!onLinux) return;
  // /proc/self/mounts is a seq file: a read hands out what fits, the rest comes at the next offset.
  const f = new ProcFile('/proc/self/mounts', { initialBytes: 16 });
  const text = f.text();
  assert.is(text, readFileSync('/proc/self/mounts', 'latin1'));
  assert.ok(text.length > 16);
  // and again from the grown buffer, from offset 0
  assert.is(f.text(), text);
  f.close();
});

test('a regular file (a copy of /proc) is opened per read: rewritten and removed files are seen', () => {
  const dir = tempDir('hw-procfile-');
  const path = join(dir, 'uptime');
  writeFileSync(path, '100.50 1.00\n');
  const f = new ProcFile(path, { initialBytes: 16 });
  assert.is(parseUptime(f.read()), 100.5);
  writeFileSync(path, '12345.67 23456.78 and a much longer line than sixteen bytes\n');
  assert.is(parseUptime(f.read()), 12345.67); // grown to the new size
  rmSync(path);
  assert.is(codeOf(() => f.read()), 'UNAVAILABLE');
  try {
    f.read();
  } catch (err) {
    assert.match((err as Error).message, `${path}: ENOENT`);
  }
  assert.is(openFds(path), 0);
});

test('a file past the size limit is UNAVAILABLE, not an unbounded buffer', () => {
  const dir = tempDir('hw-procfile-');
  const path = join(dir, 'big');
  writeFileSync(path, 'x'.repeat(5000));
  const f = new ProcFile(path, { initialBytes: 64, maxBytes: 1024 });
  assert.is(codeOf(() => f.read()), 'UNAVAILABLE');
  try {
    f.read();
  } catch (err) {
    assert.match((err as Error).message, 'larger than 1024 bytes');
  }
  writeFileSync(path, 'small\n');
  assert.is(f.text(), 'small\n'); // a later good read works
});

test('an empty file reads as empty (procfs-like: size 0), and close() releases it', () => {
  const dir = tempDir('hw-procfile-');
  const path = join(dir, 'empty');
  writeFileSync(path, '');
  const f = new ProcFile(path);
  assert.is(f.read().length, 0);
  assert.is(openFds(path), 1); // size 0 is how procfs files look: kept open
  f.close();
  assert.is(openFds(path), 0);
  f.close(); // twice is harmless
});

test.run();
