import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runProgram } from '../../common/util/runner.ts';
import { HwError } from '../../common/errors.ts';
import { timed } from '../harness.helper.ts';

const test = suite('util/runner');
const node = process.execPath;

test('stdout, stderr and a non-zero exit come back, not thrown', timed(15_000, async () => {
  const r = await runProgram(node, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
  assert.equal(r, { stdout: 'out', stderr: 'err', code: 3 });
  assert.equal(await runProgram(node, ['-e', 'console.log("a b")']), { stdout: 'a b\n', stderr: '', code: 0 });
}));

test('arguments are passed as is, no shell', timed(15_000, async () => {
  const r = await runProgram(node, ['-e', 'console.log(process.argv[1])', '$HOME; echo hi']);
  assert.is(r.stdout, '$HOME; echo hi\n');
}));

test('a program that does not exist: HwError UNAVAILABLE', timed(15_000, async () => {
  try {
    await runProgram('hostwatch-no-such-program', []);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, HwError);
    assert.is((err as HwError).code, 'UNAVAILABLE');
    assert.is((err as Error).message, 'hostwatch-no-such-program: not found');
  }
}));

test('timeout: killed, code null with the reason', timed(15_000, async () => {
  const r = await runProgram(node, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 });
  assert.is(r.code, null);
  assert.is(r.error, 'timed out after 200 ms');
}));

test('output over maxBytes: killed, code null with the reason', timed(15_000, async () => {
  const r = await runProgram(node, ['-e', 'process.stdout.write("x".repeat(100000))'], { maxBytes: 1000 });
  assert.is(r.code, null);
  assert.is(r.error, 'output larger than 1000 bytes');
}));

test.run();
