import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTail } from '../../common/actions/tail.ts';
import type { HwError } from '../../common/errors.ts';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';

const test = suite('actions/tail');
test.after(cleanTempDirs);

function file(content: string | Buffer): string {
  const p = join(tempDir('hw-tail-'), 'f.log');
  writeFileSync(p, content);
  return p;
}

/** Bytes this process has read so far (Linux: rchar in /proc/self/io). */
function bytesRead(): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (err) {
    return (err as HwError).code;
  }
}

test('last lines, with or without a final newline, CRLF stripped', timed(2000, async () => {
  assert.equal(await readTail(file('a\nb\nc\n'), 2, 1000), ['b', 'c']);
  assert.equal(await readTail(file('a\nb\nc'), 2, 1000), ['b', 'c']);
  assert.equal(await readTail(file('a\r\nb\r\n'), 5, 1000), ['a', 'b']);
  assert.equal(await readTail(file('only\n'), 5, 1000), ['only']);
  assert.equal(await readTail(file(''), 5, 1000), []);
  assert.equal(await readTail(file('a\n\nb\n'), 3, 1000), ['a', '', 'b'], 'blank lines are lines');
}));

test('same lines as tail -n across 64 KiB chunk boundaries', timed(10_000, async () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines = Array.from({ length: 4000 }, (_, i) => `${i} ${'x'.repeat(Math.floor(rnd() * 300))}`);
  const p = file(lines.join('\n') + '\n');
  for (const n of [1, 7, 200, 999, 3999, 4000, 5000]) {
    const want = execFileSync('tail', ['-n', String(n), p]).toString().split('\n').slice(0, -1);
    assert.equal(await readTail(p, n, 10 * 1024 * 1024), want, `n=${n}`);
  }
}));

test('a 2 GB (sparse) file: only its end is read', timed(5000, async () => {
  const p = join(tempDir('hw-tail-'), 'huge.log');
  writeFileSync(p, '');
  truncateSync(p, 2 * 1024 ** 3);
  appendFileSync(p, '\nfirst\nsecond\nthird\n');
  // Counted in bytes this process read (/proc/self/io), not timed: a loaded machine makes any read slow.
  const before = bytesRead();
  assert.equal(await readTail(p, 2, 512 * 1024), ['second', 'third']);
  const read = bytesRead() - before;
  assert.ok(read <= 1024 * 1024, `read ${read} bytes of a 2 GB file`);
}));

test('byte budget: exactly the last maxBytes, first line cut, no broken character', timed(2000, async () => {
  const p = file(Array.from({ length: 100 }, (_, i) => `line ${i} ${'é'.repeat(20)}`).join('\n') + '\n');
  const got = await readTail(p, 1000, 301);
  const bytes = got.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  assert.ok(bytes <= 301 && bytes >= 298, `${bytes} bytes`);
  assert.is(got.at(-1), `line 99 ${'é'.repeat(20)}`);
  assert.not.match(got[0]!, '\uFFFD');
}));

test('missing, directory, FIFO: coded errors, no hang', timed(3000, async () => {
  const dir = tempDir('hw-tail-');
  assert.is(await code(readTail(join(dir, 'nope.log'), 5, 100)), 'FILE_NOT_FOUND');
  assert.is(await code(readTail(join(dir, 'nope', 'x.log'), 5, 100)), 'FILE_NOT_FOUND');
  mkdirSync(join(dir, 'sub'));
  assert.is(await code(readTail(join(dir, 'sub'), 5, 100)), 'FILE_NOT_REGULAR');
  if (process.platform !== 'win32') {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    assert.is(await code(readTail(join(dir, 'fifo'), 5, 100)), 'FILE_NOT_REGULAR');
  }
}));

test.run();
