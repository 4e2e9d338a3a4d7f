import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capBytes, readLogs, MAX_LOG_BYTES, type ReadTail } from '../../common/actions/logs.ts';
import { MAX_LOG_LINES } from '../../common/wire/constants.ts';
import { HwError } from '../../common/errors.ts';
import type { Runner } from '../../common/util/runner.ts';
import { cleanTempDirs, tempDir, timed } from '../harness.helper.ts';
import { fixture } from '../collect/fake-proc.helper.ts';

const test = suite('actions/logs');
test.after(cleanTempDirs);

type Out = { stdout?: string; stderr?: string; code?: number | null } | Error;

/** A runner answering from a table and recording every call as "file arg arg". */
function fakeRunner(table: Record<string, Out>): Runner & { calls: string[] } {
  const calls: string[] = [];
  const run = (async (file: string, args: string[]) => {
    calls.push([file, ...args].join(' '));
    const o = table[file];
    if (o === undefined) throw new HwError('UNAVAILABLE', `${file}: not found`);
    if (o instanceof Error) throw o;
    return { stdout: o.stdout ?? '', stderr: o.stderr ?? '', code: o.code === undefined ? 0 : o.code };
  }) as Runner & { calls: string[] };
  run.calls = calls;
  return run;
}

function fakeTail(table: Record<string, string[] | Error>): ReadTail & { calls: string[] } {
  const calls: string[] = [];
  const read = (async (path: string, maxLines: number) => {
    calls.push(path);
    const o = table[path];
    if (o === undefined) throw new HwError('FILE_NOT_FOUND', `${path}: no such file`);
    if (o instanceof Error) throw o;
    return o.slice(-maxLines);
  }) as unknown as ReadTail & { calls: string[] };
  read.calls = calls;
  return read;
}

async function caught(p: Promise<unknown>): Promise<HwError> {
  try {
    await p;
  } catch (err) {
    return err as HwError;
  }
  throw new Error('expected an error');
}

const bytesOf = (lines: string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

test('log file: its last N lines, source is the path', timed(2000, async () => {
  const p = join(tempDir('hw-logs-'), 'app.log');
  writeFileSync(p, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
  assert.equal(await readLogs({ lines: 3, logFiles: [p] }), { source: p, lines: ['line 97', 'line 98', 'line 99'] });
}));

test('log file larger than the byte cap: newest whole lines within the cap, truncated', timed(5000, async () => {
  const p = join(tempDir('hw-logs-'), 'big.log');
  const n = Math.ceil((2 * MAX_LOG_BYTES) / 200);
  writeFileSync(p, Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')} ${'y'.repeat(192)}`).join('\n') + '\n');
  const r = await readLogs({ lines: MAX_LOG_LINES, logFiles: [p] });
  assert.is(r.truncated, true);
  assert.ok(bytesOf(r.lines) <= MAX_LOG_BYTES, `${bytesOf(r.lines)} bytes`);
  assert.ok(bytesOf(r.lines) > MAX_LOG_BYTES - 200, 'uses the budget');
  assert.ok(r.lines.every((l) => /^\d{6} y{192}$/.test(l)), 'only whole lines');
  assert.is(r.lines.at(-1), `${String(n - 1).padStart(6, '0')} ${'y'.repeat(192)}`);
}));

test('more lines than MAX_LOG_LINES asked: capped and truncated', timed(5000, async () => {
  const p = join(tempDir('hw-logs-'), 'many.log');
  writeFileSync(p, Array.from({ length: MAX_LOG_LINES + 500 }, (_, i) => `${i}`).join('\n') + '\n');
  const r = await readLogs({ lines: MAX_LOG_LINES + 100, logFiles: [p] });
  assert.is(r.lines.length, MAX_LOG_LINES);
  assert.is(r.truncated, true);
  assert.is(r.lines.at(-1), String(MAX_LOG_LINES + 499));
}));

test('missing log file: FILE_NOT_FOUND; bad line count: BAD_ARGS', timed(2000, async () => {
  assert.is((await caught(readLogs({ lines: 5, logFiles: ['/nonexistent/hw.log'] }))).code, 'FILE_NOT_FOUND');
  for (const lines of [0, -1, 1.5, Number.NaN]) assert.is((await caught(readLogs({ lines, logFiles: ['/x'] }))).code, 'BAD_ARGS');
}));

test('several log files: each tail under a header, as tail prints them', timed(2000, async () => {
  const read = fakeTail({ '/a.log': ['a1', 'a2', 'a3'], '/b.log': ['b1'] });
  const r = await readLogs({ lines: 2, logFiles: ['/a.log', '/b.log'], readTail: read });
  assert.equal(r, { source: '/a.log, /b.log', lines: ['==> /a.log <==', 'a2', 'a3', '==> /b.log <==', 'b1'] });
}));

test('Linux: journalctl first, with the documented arguments', timed(2000, async () => {
  const run = fakeRunner({ journalctl: { stdout: '2024-05-14T09:00:00+0000 host sshd[1]: a\n2024-05-14T09:00:01+0000 host sshd[1]: b\n' } });
  const r = await readLogs({ lines: 20, platform: 'linux', runner: run, readTail: fakeTail({}) });
  assert.is(r.source, 'journalctl');
  assert.is(r.lines.length, 2);
  assert.equal(run.calls, ['journalctl -n 20 -q --no-pager -o short-iso']);
}));

test('Linux: "No journal files were found" (exit 0) moves on, then missing and empty files, in order', timed(2000, async () => {
  const run = fakeRunner({ journalctl: { stdout: 'No journal files were found.\n', code: 0 } });
  const read = fakeTail({ '/var/log/messages': [], '/var/log/kern.log': ['k1', 'k2', 'k3'] });
  const r = await readLogs({ lines: 2, platform: 'linux', runner: run, readTail: read });
  assert.equal(r, { source: '/var/log/kern.log', lines: ['k2', 'k3'] });
  assert.equal(run.calls, ['journalctl -n 2 -q --no-pager -o short-iso']);
  assert.equal(read.calls, ['/var/log/syslog', '/var/log/messages', '/var/log/kern.log']);
}));

test('Linux: logread, then dmesg, whose whole buffer is cut to the last N', timed(2000, async () => {
  const dmesg = Array.from({ length: 50 }, (_, i) => `[ ${i}.000000] kernel line ${i}`).join('\n') + '\n';
  const run = fakeRunner({ journalctl: { stdout: '', stderr: 'No journal files were found.' }, logread: { stdout: '', code: 1, stderr: "can't find syslogd buffer" }, dmesg: { stdout: dmesg } });
  const r = await readLogs({ lines: 3, platform: 'linux', runner: run, readTail: fakeTail({}) });
  assert.equal(r, { source: 'dmesg', lines: ['[ 47.000000] kernel line 47', '[ 48.000000] kernel line 48', '[ 49.000000] kernel line 49'] });
  assert.equal(run.calls, ['journalctl -n 3 -q --no-pager -o short-iso', 'logread', 'dmesg']);
}));

test('Linux: every source fails: LOGS_UNAVAILABLE naming each one and why', timed(2000, async () => {
  const run = fakeRunner({
    journalctl: { stdout: 'No journal files were found.\n' },
    dmesg: { code: 1, stderr: 'dmesg: read kernel buffer failed: Operation not permitted' },
  });
  const read = fakeTail({ '/var/log/messages': [], '/var/log/kern.log': new HwError('FILE_UNREADABLE', '/var/log/kern.log: EACCES') });
  const err = await caught(readLogs({ lines: 10, platform: 'linux', runner: run, readTail: read }));
  assert.is(err.code, 'LOGS_UNAVAILABLE');
  const msg = err.message;
  for (const part of [
    'journalctl: printed nothing',
    '/var/log/syslog: not found',
    '/var/log/messages: empty',
    '/var/log/kern.log: EACCES',
    'logread: not found',
    'dmesg: exit code 1 (dmesg: read kernel buffer failed: Operation not permitted)',
  ]) assert.match(msg, part);
}));

test('Windows: wevtutil events, one line each, oldest first', timed(2000, async () => {
  const run = fakeRunner({ wevtutil: { stdout: readFileSync(fixture('wevtutil-system-3.txt'), 'utf8') } });
  const r = await readLogs({ lines: 3, platform: 'win32', runner: run });
  assert.is(r.source, 'wevtutil System');
  assert.equal(run.calls, ['wevtutil qe System /c:3 /rd:true /f:text']);
  assert.is(r.lines.length, 3);
  assert.match(r.lines[0]!, /^2024-05-14T08:02:55\.106 Critical Microsoft-Windows-Kernel-Power: The system has rebooted/);
  assert.match(r.lines[2]!, /^2024-05-14T09:41:17\.982 Warning Microsoft-Windows-DistributedCOM: /);
}));

test('Windows: wevtutil missing or denied: LOGS_UNAVAILABLE naming it', timed(2000, async () => {
  const missing = await caught(readLogs({ lines: 3, platform: 'win32', runner: fakeRunner({}) }));
  assert.is(missing.code, 'LOGS_UNAVAILABLE');
  assert.match(missing.message, 'wevtutil System: not found');
  const denied = await caught(readLogs({ lines: 3, platform: 'win32', runner: fakeRunner({ wevtutil: { code: 5, stderr: 'Failed to read events. Access is denied.' } }) }));
  assert.match(denied.message, 'exit code 5 (Failed to read events. Access is denied.)');
}));

test('byte cap of command output and of one enormous line', () => {
  const big = 'z'.repeat(MAX_LOG_BYTES * 2);
  const r = capBytes(['small', big], MAX_LOG_BYTES);
  assert.is(r.truncated, true);
  assert.is(r.lines.length, 1);
  assert.is(bytesOf(r.lines), MAX_LOG_BYTES);
  assert.equal(capBytes(['a', 'b'], 100), { lines: ['a', 'b'], truncated: false });
});

test('this machine: the system log, or LOGS_UNAVAILABLE with the sources tried', timed(20_000, async () => {
  try {
    const r = await readLogs({ lines: 5 });
    assert.type(r.source, 'string');
    assert.ok(r.lines.length >= 1 && r.lines.length <= 5, `${r.lines.length} lines`);
    assert.ok(r.lines.every((l) => typeof l === 'string'));
  } catch (err) {
    assert.instance(err, HwError);
    assert.is((err as HwError).code, 'LOGS_UNAVAILABLE');
    assert.match((err as Error).message, process.platform === 'win32' ? 'wevtutil' : 'journalctl');
  }
}));

test.run();
