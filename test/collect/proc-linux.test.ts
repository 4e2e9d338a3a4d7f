import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  countProcesses, parseBootTime, parseCpuTimes, parseLoadavg, parseMeminfo, parseNetDev, parseUptime, readProc,
} from '../../common/collect/proc-linux.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs } from '../harness.helper.ts';
import { fakeProc, fixture } from './fake-proc.helper.ts';

const test = suite('collect/proc-linux');
test.after(cleanTempDirs);
const onLinux = process.platform === 'linux';

test('cpu line: iowait counts as idle, guest is not added twice', () => {
  const t = parseCpuTimes(readFileSync(fixture('proc/stat'), 'utf8'));
  assert.equal(t, { idle: 48714 + 646, total: 4557 + 120 + 2105 + 48714 + 646 + 0 + 31 + 11 });
  // guest (9th) and guest_nice (10th) must not change the total
  assert.equal(parseCpuTimes('cpu  10 0 10 80 0 0 0 0 99 99\n').total, 100);
  assert.throws(() => parseCpuTimes('intr 1 2 3\n'), (e: unknown) => e instanceof HwError && e.code === 'UNAVAILABLE');
});

test('btime is boot time in ms', () => {
  assert.is(parseBootTime(readFileSync(fixture('proc/stat'), 'utf8')), 1715670000 * 1000);
  assert.is(parseBootTime('cpu 1 2 3 4\n'), null);
});

test('meminfo in bytes; MemAvailable absent on old kernels is null', () => {
  const m = parseMeminfo(readFileSync(fixture('proc/meminfo'), 'utf8'));
  assert.equal(m, { totalBytes: 8000000 * 1024, availableBytes: 2000000 * 1024, freeBytes: 500000 * 1024, swapTotalBytes: 1000000 * 1024, swapFreeBytes: 750000 * 1024 });
  assert.is(parseMeminfo('MemTotal: 1000 kB\nMemFree: 10 kB\n').availableBytes, null);
  assert.throws(() => parseMeminfo('garbage'), /MemTotal/);
});

test('net/dev: headers skipped, rx is field 1 and tx field 9', () => {
  const n = parseNetDev(readFileSync(fixture('proc/net/dev'), 'utf8'));
  assert.equal(n, [
    { name: 'lo', rxBytes: 5000000, txBytes: 5000000 },
    { name: 'eth0', rxBytes: 200355654, txBytes: 383559 },
    { name: 'wlan0', rxBytes: 1000, txBytes: 2000 },
  ]);
  // counters glued to the colon (large values on old kernels) still parse
  assert.equal(parseNetDev('eth1:123456789012 1 0 0 0 0 0 0 42 1 0 0 0 0 0 0\n'), [{ name: 'eth1', rxBytes: 123456789012, txBytes: 42 }]);
});

test('uptime and loadavg', () => {
  assert.is(parseUptime('12345.67 23456.78\n'), 12345.67);
  assert.equal(parseLoadavg('0.46 0.22 0.08 3/110 3589\n'), [0.46, 0.22, 0.08]);
  assert.throws(() => parseUptime(''), /uptime/);
});

test('process count = numeric names only', () => {
  assert.is(countProcesses(fakeProc(5)), 5);
});

test('parsers read bytes as they read text, and reject what is cut or garbled', () => {
  const stat = readFileSync(fixture('proc/stat'));
  assert.equal(parseCpuTimes(stat), parseCpuTimes(stat.toString('latin1')));
  assert.is(parseBootTime(stat), parseBootTime(stat.toString('latin1')));
  // the cpu line need not be first; a short one (old kernels: 4 fields) still counts
  assert.equal(parseCpuTimes('intr 1 2\ncpu  1 2 3 4\n'), { idle: 4, total: 10 });
  assert.equal(parseCpuTimes('cpu  1 2 3 4'), { idle: 4, total: 10 }); // no final newline
  for (const bad of ['cpu  1 2 3\n', 'cpu  1 2 x 4 5\n', 'cpu\n', '', 'cpu0 1 2 3 4\n']) {
    assert.throws(() => parseCpuTimes(bad), /\/proc\/stat/, JSON.stringify(bad));
  }
  const mem = readFileSync(fixture('proc/meminfo'));
  assert.equal(parseMeminfo(mem), parseMeminfo(mem.toString('latin1')));
  // a key that only starts like a wanted one is not it; the last line without a newline counts
  assert.equal(parseMeminfo('MemTotalX: 5 kB\nMemTotal: 2 kB\nSwapFree: 1 kB'), { totalBytes: 2048, availableBytes: null, freeBytes: null, swapTotalBytes: null, swapFreeBytes: 1024 });
  assert.throws(() => parseMeminfo('MemTotal: kB\n'), /MemTotal/);
});

test('net/dev from bytes: names trimmed, short or garbled lines skipped, many interfaces', () => {
  const head = 'Inter-|   Receive                            |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes\n';
  const lines = Array.from({ length: 400 }, (_, i) => `  veth${i}: ${i} 1 0 0 0 0 0 0 ${i * 2} 1 0 0 0 0 0 0`);
  const n = parseNetDev(Buffer.from(head + lines.join('\n') + '\n  short: 1 2 3\n bad: x 1 2 3 4 5 6 7 8\n', 'latin1'));
  assert.is(n.length, 400);
  assert.equal(n[399], { name: 'veth399', rxBytes: 399, txBytes: 798 });
  assert.throws(() => parseNetDev(head), /no interfaces/);
});

test('uptime and loadavg from bytes: the same doubles Number() gives, nothing else accepted', () => {
  for (const t of ['12345.67', '0.01', '987654.99', '3', '1.1', '0.3', '16777216.97']) {
    assert.is(parseUptime(Buffer.from(`${t} 1.00\n`)), Number(t), t);
  }
  assert.equal(parseLoadavg(Buffer.from('0.46 0.22 0.08 3/110 3589\n')), [0.46, 0.22, 0.08]);
  for (const bad of ['', '\n', 'abc 1\n', '-1 2\n', '12x 1\n']) assert.throws(() => parseUptime(bad), /uptime/, JSON.stringify(bad));
  for (const bad of ['0.46 0.22\n', '0.46 x 0.08 1/2 3\n', '']) assert.throws(() => parseLoadavg(bad), /loadavg/, JSON.stringify(bad));
});

test('missing file: UNAVAILABLE naming the path and errno', () => {
  const root = fakeProc();
  rmSync(join(root, 'meminfo'));
  try {
    readProc(root, 'meminfo');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, HwError);
    assert.is((err as HwError).code, 'UNAVAILABLE');
    assert.match((err as Error).message, `${root}/meminfo: ENOENT`);
  }
  assert.throws(() => countProcesses(join(root, 'nowhere')), /ENOENT/);
});

test('real /proc: process count matches ps -e within a few', () => {
  if (!onLinux) return;
  // Each count is compared with /proc listed just before and just after it: other processes come
  // and go meanwhile (on a loaded machine, many), so one listing taken later is no reference.
  const byDir = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
  const within = (n: number, a: number, b: number, slack: number) => n >= Math.min(a, b) - slack && n <= Math.max(a, b) + slack;
  const d0 = byDir();
  const ours = countProcesses('/proc');
  const d1 = byDir();
  const byPs = execFileSync('ps', ['-e', '--no-headers']).toString().trim().split('\n').length;
  const d2 = byDir();
  assert.ok(within(ours, d0, d1, 3), `ours ${ours} vs /proc ${d0} and ${d1}`);
  assert.ok(within(byPs, d1, d2, 5), `ps ${byPs} vs /proc ${d1} and ${d2} (ours ${ours})`);
});

test('real /proc/meminfo: percent matches free -b within 1 point', () => {
  if (!onLinux) return;
  const m = parseMeminfo(readProc('/proc', 'meminfo'));
  const mem = execFileSync('free', ['-b']).toString().split('\n').find((l) => l.startsWith('Mem:'))!.trim().split(/\s+/).map(Number);
  const [total, available] = [mem[1]!, mem[6]!];
  assert.is(m.totalBytes, total);
  const ours = ((m.totalBytes - m.availableBytes!) / m.totalBytes) * 100;
  assert.ok(Math.abs(ours - ((total - available) / total) * 100) < 1, `ours ${ours}`);
});

test.run();
