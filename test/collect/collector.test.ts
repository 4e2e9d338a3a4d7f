import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ChildProcess, execFileSync } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import si from 'systeminformation';
import { Collector, COUNT_COST_FACTOR } from '../../common/collect/collector.ts';
import { runProgram, type Runner } from '../../common/util/runner.ts';
import { HwError } from '../../common/errors.ts';
import { SLOW_READING_MAX_AGE_MS } from '../../common/collect/disk.ts';
import { cleanTempDirs, timed } from '../harness.helper.ts';
import { fakeProc, fixture } from './fake-proc.helper.ts';

const test = suite('collect/collector');
test.after(cleanTempDirs);
const onLinux = process.platform === 'linux';

/** Counts calls to the systeminformation lookups the static part of status() makes, until restored. */
function countSiCalls(): { n: number; restore: () => void } {
  const lib = si as unknown as Record<'cpu' | 'osInfo' | 'system', (...a: unknown[]) => unknown>;
  const saved = { cpu: lib.cpu, osInfo: lib.osInfo, system: lib.system };
  const calls = { n: 0, restore: () => Object.assign(lib, saved) };
  for (const k of ['cpu', 'osInfo', 'system'] as const) {
    lib[k] = (...a: unknown[]) => {
      calls.n++;
      return saved[k](...a);
    };
  }
  return calls;
}

const hostUptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const procCount = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;

/** Non-loopback rx/tx totals straight from /proc/net/dev, parsed independently of the code under test. */
function netTotals(): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name!.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0]!;
    tx += f[8]!;
  }
  return { rx, tx };
}

test('real machine: sample() agrees with free, df, /proc and /proc/net/dev', timed(10_000, async () => {
  if (!onLinux) return;
  const c = new Collector();
  const before = netTotals();
  const upBefore = hostUptime();
  const procsBefore = procCount();
  const s = await c.sample();
  const procsAfter = procCount();
  const upAfter = hostUptime();
  const after = netTotals();
  const m = s.metrics;
  assert.is(m.unavailable, undefined, JSON.stringify(m.unavailable));

  // first sample already has a CPU value (baseline taken in the constructor)
  assert.type(m.cpuPercent, 'number');
  assert.ok(m.cpuPercent! >= 0 && m.cpuPercent! <= 100);

  const mem = execFileSync('free', ['-b']).toString().split('\n').find((l) => l.startsWith('Mem:'))!.trim().split(/\s+/).map(Number);
  const freePct = ((mem[1]! - mem[6]!) / mem[1]!) * 100;
  assert.ok(Math.abs(m.memPercent! - freePct) <= 2, `mem ${m.memPercent} vs free ${freePct}`);

  const dfPct = Number(execFileSync('df', ['-P', '/']).toString().trim().split('\n')[1]!.split(/\s+/)[4]!.replace('%', ''));
  assert.ok(Math.abs(m.diskPercent! - dfPct) <= 1, `disk ${m.diskPercent} vs df ${dfPct}`);

  // Between the counts before and after (give or take 5): other processes come and go meanwhile.
  const lo = Math.min(procsBefore, procsAfter) - 5;
  const hi = Math.max(procsBefore, procsAfter) + 5;
  assert.ok(m.processCount! >= lo && m.processCount! <= hi, `procs ${m.processCount} not in [${lo}, ${hi}]`);

  // Between the readings before and after (bracketed, not a bound on how long sample() took).
  assert.ok(m.uptimeSeconds! >= upBefore - 1 && m.uptimeSeconds! <= upAfter + 1, `uptime ${m.uptimeSeconds} not in [${upBefore}, ${upAfter}]`);

  assert.ok(m.netRxBytes! >= before.rx && m.netRxBytes! <= after.rx, `rx ${m.netRxBytes} not in [${before.rx}, ${after.rx}]`);
  assert.ok(m.netTxBytes! >= before.tx && m.netTxBytes! <= after.tx, `tx ${m.netTxBytes} not in [${before.tx}, ${after.tx}]`);
  assert.type(m.netRxRate, 'number');
  assert.ok(s.interfaces!.some((i) => i.name === 'lo'), 'interfaces list loopback too');
  c.close();
}));

test('sample() on Linux starts no process (async or sync spawn)', timed(10_000, async () => {
  if (!onLinux) return;
  const cp = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  // Every async spawn (spawn, exec, execFile, fork) goes through ChildProcess#spawn, untyped in @types/node.
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, o: { file?: string }) => unknown };
  const origSpawn = proto.spawn;
  const origSync = { spawnSync: cp.spawnSync, execSync: cp.execSync, execFileSync: cp.execFileSync };
  const spawned: string[] = [];
  proto.spawn = function (this: ChildProcess, o: { file?: string }) {
    spawned.push(String(o?.file));
    return origSpawn.call(this, o);
  };
  for (const k of Object.keys(origSync) as (keyof typeof origSync)[]) {
    (cp as Record<string, unknown>)[k] = (...a: unknown[]) => {
      spawned.push(String(a[0]));
      return (origSync[k] as (...x: unknown[]) => unknown)(...a);
    };
  }
  syncBuiltinESMExports();
  try {
    // The trap must see a real spawn, or this test could never fail.
    await runProgram(process.execPath, ['-e', '0']);
    assert.is(spawned.length, 1, 'spawn trap works');
    spawned.length = 0;
    const c = new Collector();
    for (let i = 0; i < 5; i++) await c.sample();
    await c.processCount();
    assert.equal(spawned, []);
  } finally {
    proto.spawn = origSpawn;
    Object.assign(cp, origSync);
    syncBuiltinESMExports();
  }
}));

test('fake /proc: exact values, rates from the previous reading with the injected clock', timed(5000, async () => {
  const root = fakeProc(5);
  let now = 1_000;
  const c = new Collector({ platform: 'linux', procRoot: root, now: () => now });
  // Between the constructor's reading and the sample: 30 busy + 70 idle jiffies, 5000 B in, 1000 B out.
  writeFileSync(join(root, 'stat'), readFileSync(join(root, 'stat'), 'utf8').replace('cpu  4557 120 2105 48714', 'cpu  4587 120 2105 48784'));
  writeFileSync(join(root, 'net/dev'), readFileSync(join(root, 'net/dev'), 'utf8').replace('200355654', '200360654').replace('383559', '384559'));
  now = 3_000;
  const s = await c.sample();
  const m = s.metrics;
  assert.is(m.cpuPercent, 30);
  assert.is(m.memPercent, 75);
  assert.is(m.memTotalBytes, 8000000 * 1024);
  assert.is(m.uptimeSeconds, 12345.67);
  assert.is(m.processCount, 5);
  assert.is(m.load1, 0.46);
  assert.is(m.netRxBytes, 200360654 + 1000); // loopback excluded
  assert.is(m.netTxBytes, 384559 + 2000);
  assert.is(m.netRxRate, 2500);
  assert.is(m.netTxRate, 500);
  const eth0 = s.interfaces!.find((i) => i.name === 'eth0')!;
  assert.equal(eth0, { name: 'eth0', rxBytes: 200360654, txBytes: 384559, rxRate: 2500, txRate: 500 });
  assert.is(s.at, 3_000);

  // A counter going down (interface reset) is not a negative rate.
  writeFileSync(join(root, 'net/dev'), readFileSync(fixture('proc/net/dev'), 'utf8').replace('200355654', '10'));
  now = 4_000;
  const s2 = await c.sample();
  assert.is(s2.metrics.netRxRate, null);
  assert.match(s2.metrics.unavailable!.netRxRate!, 'backwards');
}));

test('a count that took long stands for COUNT_COST_FACTOR times its time (a host with tens of thousands of processes)', timed(5000, async () => {
  const root = fakeProc(5);
  let now = 1_000;
  let mono = 0;
  // Every reading of the monotonic clock 20 ms later: the count took 20 ms.
  const c = new Collector({ platform: 'linux', procRoot: root, now: () => now, clock: () => (mono += 20) });
  assert.is((await c.sample()).metrics.processCount, 5);
  mkdirSync(join(root, '9999'));
  now += 19_000;
  assert.is((await c.sample()).metrics.processCount, 5, `stands for ${20 * COUNT_COST_FACTOR / 1000} s`);
  now = 1_000 + 20 * COUNT_COST_FACTOR;
  assert.is((await c.sample()).metrics.processCount, 6);
  c.close();
}));

test('fake /proc: reports reuse a process count for 5 s; the process-count command counts afresh', timed(5000, async () => {
  const root = fakeProc(5);
  let now = 1_000;
  const c = new Collector({ platform: 'linux', procRoot: root, now: () => now });
  assert.is((await c.sample()).metrics.processCount, 5);
  mkdirSync(join(root, '9999'));
  now = 2_000;
  assert.is((await c.sample()).metrics.processCount, 5, 'a report within 5 s reuses the count');
  assert.is((await c.processCount()).processCount, 6, 'the command counts now');
  now = 1_000 + SLOW_READING_MAX_AGE_MS;
  assert.is((await c.sample()).metrics.processCount, 6, 'counted again once 5 s old');
  // A count that fails is not kept: the next report tries again.
  rmSync(root, { recursive: true, force: true });
  now += SLOW_READING_MAX_AGE_MS;
  assert.is((await c.sample()).metrics.processCount, null);
  c.close();
}));

test('fake /proc: per-mount usage is refreshed at most every 5 s, never waited for', timed(5000, async () => {
  if (!onLinux) return;
  const root = fakeProc(3);
  const mountsFile = join(root, 'self/mounts');
  writeFileSync(mountsFile, '/dev/hw-test-a / ext4 rw 0 0\n');
  let now = 1_000;
  const c = new Collector({ platform: 'linux', procRoot: root, now: () => now });
  await c.sample(); // starts the first refresh
  now = 2_000;
  const names = async () => ((await c.sample()).mounts ?? []).map((m) => m.mount);
  assert.equal(await names(), ['/']);
  writeFileSync(mountsFile, `/dev/hw-test-a / ext4 rw 0 0\n/dev/hw-test-b ${os.tmpdir()} ext4 rw 0 0\n`);
  now = 4_000;
  assert.equal(await names(), ['/'], 'within 5 s of the last refresh: the mounts as they were');
  now = 1_000 + SLOW_READING_MAX_AGE_MS;
  await c.sample(); // due: refreshed beside this sample
  assert.equal(await names(), ['/', os.tmpdir()]);
  c.close();
}));

test('fake /proc: missing files are null with the reason, never 0', timed(5000, async () => {
  const root = fakeProc(3);
  const c = new Collector({ platform: 'linux', procRoot: root });
  for (const f of ['meminfo', 'net/dev', 'uptime', 'loadavg', 'stat']) rmSync(join(root, f));
  const m = (await c.sample()).metrics;
  for (const k of ['cpuPercent', 'memPercent', 'netRxBytes', 'netTxBytes', 'netRxRate', 'uptimeSeconds', 'load1'] as const) {
    assert.is(m[k], null, k);
    assert.ok(m.unavailable?.[k], `reason for ${k}`);
  }
  assert.match(m.unavailable!.memPercent!, /meminfo: ENOENT/);
  assert.match(m.unavailable!.netRxBytes!, /net\/dev: ENOENT/);
  assert.is(m.processCount, 3); // what could be read still is
  assert.type(m.diskPercent, 'number');
}));

test('fake /proc: no MemAvailable (kernel < 3.14) means no memPercent', timed(5000, async () => {
  const root = fakeProc();
  writeFileSync(join(root, 'meminfo'), 'MemTotal: 1000 kB\nMemFree: 100 kB\n');
  const m = (await new Collector({ platform: 'linux', procRoot: root }).sample()).metrics;
  assert.is(m.memPercent, null);
  assert.match(m.unavailable!.memPercent!, 'MemAvailable');
}));

function winRunner(outputs: Record<string, string | Error>): Runner {
  return async (file) => {
    const o = outputs[file];
    if (o === undefined) throw new HwError('UNAVAILABLE', `${file}: not found`);
    if (o instanceof Error) throw o;
    return { stdout: o, stderr: '', code: 0 };
  };
}

test('win32 with real netstat/tasklist outputs', timed(5000, async () => {
  const run = winRunner({ netstat: readFileSync(fixture('netstat-e.txt'), 'utf8'), tasklist: readFileSync(fixture('tasklist-csv.txt'), 'utf8') });
  const c = new Collector({ platform: 'win32', runner: run });
  const s = await c.sample();
  const m = s.metrics;
  assert.is(m.netRxBytes, 3861274517);
  assert.is(m.netTxBytes, 402915733);
  assert.is(m.netRxRate, 0); // same counters as the constructor's reading: truly nothing moved
  assert.is(m.processCount, 12);
  assert.type(m.memPercent, 'number');
  assert.type(m.uptimeSeconds, 'number');
  assert.is('load1' in m, false, 'Windows has no load average; os.loadavg() there is a fake 0');
  assert.is(s.interfaces, undefined);
  if (process.platform !== 'win32') {
    assert.is(m.diskPercent, null); // no C:\ here
    assert.match(m.unavailable!.diskPercent!, 'C:\\');
  }
}));

test('win32 under Wine: tools missing or silent are null with reasons, not 0', timed(5000, async () => {
  for (const [run, why] of [
    [winRunner({}), /not found/],
    [winRunner({ netstat: '', tasklist: '\r\n' }), /printed nothing/],
  ] as [Runner, RegExp][]) {
    const c = new Collector({ platform: 'win32', runner: run });
    const m = (await c.sample()).metrics;
    for (const k of ['netRxBytes', 'netTxBytes', 'netRxRate', 'netTxRate', 'processCount'] as const) {
      assert.is(m[k], null, k);
      assert.match(m.unavailable![k]!, why);
    }
    const pc = await c.processCount();
    assert.is(pc.processCount, null);
    assert.match(pc.reason!, why);
  }
}));

test('win32 status(): no per-interface counters and no drives here, each said', timed(20_000, async () => {
  const c = new Collector({ platform: 'win32', runner: winRunner({}) });
  const st = await c.status();
  assert.equal(st.interfaces, []);
  assert.match(st.unavailable!.interfaces!, 'not found');
  if (process.platform !== 'win32') {
    assert.equal(st.disks, []);
    assert.match(st.unavailable!.disks!, 'no drive');
  }
  assert.is(st.platform, 'win32');
  assert.is(st.cpu!.cores, os.cpus().length);
  assert.type(st.bootTime, 'number'); // from os.uptime()
}));

test('real machine: status() has every real mount, interfaces, static info, consistent metrics', timed(30_000, async () => {
  if (!onLinux) return;
  const c = new Collector();
  const asked = countSiCalls();
  try {
    const st = await c.status();
    assert.is(asked.n, 3, 'the first status() asks systeminformation (cpu, osInfo, system)');
    assert.is(st.hostname, os.hostname());
    const root = st.disks.find((d) => d.mount === '/');
    assert.ok(root, JSON.stringify(st.disks));
    assert.ok(Math.abs(root!.percent - st.metrics.diskPercent!) <= 1);
    assert.ok(root!.used + root!.available <= root!.size);
    assert.ok(st.interfaces.length > 0);
    assert.type(st.metrics.cpuPercent, 'number');
    assert.ok(st.cpu!.model.length > 0);
    assert.ok(st.cpu!.speedMHz === null || st.cpu!.speedMHz! > 0, 'an unknown speed is null, not 0');
    assert.ok(st.os?.distro || st.unavailable?.os, 'distro or a reason');
    const bootFromProc = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]) * 1000;
    assert.is(st.bootTime, bootFromProc);
    assert.is(st.memory!.usedBytes, st.memory!.totalBytes! - st.memory!.availableBytes!);
    // The static part is cached: a second status() does not ask systeminformation again (counted,
    // not timed: on a loaded machine any status is slow). Only a lookup that timed out is asked again.
    assert.not.match(JSON.stringify(st.unavailable ?? {}), 'no answer in', 'the static lookups answered in time');
    const again = await c.status();
    assert.is(asked.n, 3, 'the second status() answers from the cache');
    assert.is(again.cpu!.model, st.cpu!.model);
    assert.equal(again.os, st.os);
    assert.equal(again.system, st.system);
  } finally {
    asked.restore();
    c.close();
  }
}));

test('real machine: samples carry each mount\'s usage, the same mounts status() lists', timed(15_000, async () => {
  if (!onLinux) return;
  const c = new Collector();
  await c.sample();
  const s = await c.sample(); // the first sample's refresh of the mounts has finished by now
  const st = await c.status();
  assert.ok(s.mounts && s.mounts.length > 0, 'mounts in the sample');
  assert.equal(s.mounts!.map((m) => m.mount), st.disks.map((d) => d.mount));
  assert.equal(s.mounts!.map((m) => m.type), st.disks.map((d) => d.type), 'the mount table\'s filesystem types');
  for (const m of s.mounts!) {
    assert.ok(m.size > 0 && m.used >= 0 && m.used <= m.size, JSON.stringify(m));
    assert.ok(typeof m.available === 'number' && m.available >= 0 && m.used + m.available <= m.size, `available within size: ${JSON.stringify(m)}`);
    assert.ok(m.percent >= 0 && m.percent <= 100);
  }
  assert.is(typeof s.metrics.swapTotalBytes, 'number', 'swap total read from /proc/meminfo');
}));

test.run();
