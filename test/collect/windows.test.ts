import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { countWindowsProcesses, parseNetstatE, parseTasklistCsv, readWindowsNet, systemDrive } from '../../common/collect/windows.ts';
import { HwError } from '../../common/errors.ts';
import type { Runner } from '../../common/util/runner.ts';
import { timed } from '../harness.helper.ts';
import { fixture } from './fake-proc.helper.ts';

const test = suite('collect/windows');
const read = (name: string) => readFileSync(fixture(name), 'utf8');

test('netstat -e: the Bytes row, CRLF output', () => {
  assert.equal(parseNetstatE(read('netstat-e.txt')), { rxBytes: 3861274517, txBytes: 402915733 });
});

test('netstat -e translated (French "Octets"): found by position', () => {
  assert.equal(parseNetstatE(read('netstat-e-fr.txt')), { rxBytes: 1290487113, txBytes: 77312854 });
});

test('netstat -e without counters (Wine stub, error text): UNAVAILABLE, not 0', () => {
  for (const text of ['', 'Interface Statistics\r\n\r\n   Received   Sent\r\n', 'netstat: unknown option -e\r\n']) {
    assert.throws(() => parseNetstatE(text), (e: unknown) => e instanceof HwError && e.code === 'UNAVAILABLE');
  }
});

test('tasklist csv: one row per process, blank first line and INFO lines ignored', () => {
  assert.is(parseTasklistCsv(read('tasklist-csv.txt')), 12);
  assert.throws(() => parseTasklistCsv('INFO: No tasks are running which match the specified criteria.\r\n'), /no processes/);
});

test('system drive from %SystemDrive%, C: otherwise', () => {
  assert.is(systemDrive({ SystemDrive: 'd:' }), 'D:');
  assert.is(systemDrive({}), 'C:');
  assert.is(systemDrive({ SystemDrive: '../etc' }), 'C:');
});

function runnerFor(outputs: Record<string, { stdout?: string; stderr?: string; code?: number | null; error?: string }>): Runner & { calls: string[] } {
  const calls: string[] = [];
  const run = (async (file: string, args: string[]) => {
    calls.push([file, ...args].join(' '));
    const o = outputs[file];
    if (!o) throw new HwError('UNAVAILABLE', `${file}: not found`);
    return { stdout: o.stdout ?? '', stderr: o.stderr ?? '', code: o.code === undefined ? 0 : o.code, ...(o.error ? { error: o.error } : {}) };
  }) as Runner & { calls: string[] };
  run.calls = calls;
  return run;
}

test('readers run the right programs through the runner', timed(2000, async () => {
  const run = runnerFor({ netstat: { stdout: read('netstat-e.txt') }, tasklist: { stdout: read('tasklist-csv.txt') } });
  assert.equal(await readWindowsNet(run), { rxBytes: 3861274517, txBytes: 402915733 });
  assert.is(await countWindowsProcesses(run), 12);
  assert.equal(run.calls, ['netstat -e', 'tasklist /fo csv /nh']);
}));

test('program missing, failing, silent or killed: each says why', timed(2000, async () => {
  const cases: [Runner, RegExp][] = [
    [runnerFor({}), /netstat: not found/],
    [runnerFor({ netstat: { stdout: '', code: 1, stderr: 'The system cannot find the path specified.' } }), /exit code 1 \(The system cannot find/],
    [runnerFor({ netstat: { stdout: '   \r\n' } }), /printed nothing/],
    [runnerFor({ netstat: { code: null, error: 'timed out after 10000 ms' } }), /timed out/],
  ];
  for (const [run, why] of cases) {
    try {
      await readWindowsNet(run);
      assert.unreachable('should throw');
    } catch (err) {
      assert.is((err as HwError).code, 'UNAVAILABLE');
      assert.match((err as Error).message, why);
    }
  }
}));

test.run();
