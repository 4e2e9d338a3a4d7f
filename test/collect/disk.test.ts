import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, type StatsFs } from 'node:fs';
import { dfPercent, diskUsage, MountTable, parseMounts, readMounts, realMounts, SLOW_READING_MAX_AGE_MS } from '../../common/collect/disk.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';
import { HwError } from '../../common/errors.ts';
import { timed } from '../harness.helper.ts';
import { fixture } from './fake-proc.helper.ts';

const test = suite('collect/disk');
test.after(cleanTempDirs);

test('df percent: used / (used + avail), rounded up', () => {
  assert.is(dfPercent(22702152, 83688760), 22); // a real `df -P /` line: 22%
  assert.is(dfPercent(50, 50), 50);
  assert.is(dfPercent(1, 999), 1);
  assert.is(dfPercent(0, 100), 0);
  assert.is(dfPercent(100, 0), 100);
  assert.is(dfPercent(0, 0), null);
});

test('mounts: octal escapes decoded', () => {
  const m = parseMounts('/dev/sdb1 /srv/data\\040disk xfs rw 0 0\n');
  assert.equal(m, [{ fs: '/dev/sdb1', mount: '/srv/data disk', type: 'xfs' }]);
});

test('real mounts: pseudo, memory-backed and squashfs dropped, bind of a device kept at its shortest path', () => {
  const mounts = realMounts(parseMounts(readFileSync(fixture('proc/self/mounts'), 'utf8')));
  assert.equal(mounts.map((m) => m.mount), ['/', '/boot/efi', '/mnt/nfs', '/srv/data disk', '/var/lib/docker/overlay2/abc/merged']);
  assert.equal(mounts[0], { fs: '/dev/sda2', mount: '/', type: 'ext4' });
});

test('a mount point mounted over twice counts once, the top one', () => {
  const m = realMounts(parseMounts('/dev/a /data ext4 rw 0 0\n/dev/b /data xfs rw 0 0\n'));
  assert.equal(m, [{ fs: '/dev/b', mount: '/data', type: 'xfs' }]);
});

const fakeStat = (s: Partial<StatsFs>): (() => Promise<StatsFs>) => async () => ({ type: 0, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, ...s }) as StatsFs;

test('usage in bytes from statfs; reserved blocks count as neither used nor available', timed(2000, async () => {
  const d = await diskUsage({ fs: '/dev/x', mount: '/x', type: 'ext4' }, { statfs: fakeStat({ blocks: 1000, bfree: 300, bavail: 250 }) });
  assert.equal(d, { mount: '/x', fs: '/dev/x', type: 'ext4', size: 1000 * 4096, used: 700 * 4096, available: 250 * 4096, percent: 74 });
}));

test('a hung statfs (dead NFS) gives up with UNAVAILABLE', timed(2000, async () => {
  try {
    await diskUsage({ fs: 's:/e', mount: '/mnt/nfs', type: 'nfs4' }, { timeoutMs: 100, statfs: () => new Promise<StatsFs>(() => {}) });
    assert.unreachable('should time out');
  } catch (err) {
    assert.instance(err, HwError);
    assert.is((err as HwError).code, 'UNAVAILABLE');
    assert.match((err as Error).message, '/mnt/nfs');
    // Given up at the deadline it was given (said, not timed: a loaded machine runs timers late).
    assert.match((err as Error).message, 'no answer in 100 ms');
  }
}));

test('a filesystem with no blocks is not a percent', timed(2000, async () => {
  try {
    await diskUsage({ fs: 'x', mount: '/x', type: 'x' }, { statfs: fakeStat({}) });
    assert.unreachable('should throw');
  } catch (err) {
    assert.is((err as HwError).code, 'UNAVAILABLE');
  }
}));

test('real /: percent matches df -P / within 1 point', timed(5000, async () => {
  if (process.platform !== 'linux') return;
  const d = await diskUsage({ fs: '/', mount: '/', type: '' });
  const row = execFileSync('df', ['-P', '/']).toString().trim().split('\n')[1]!.split(/\s+/);
  const dfPct = Number(row[4]!.replace('%', ''));
  assert.ok(Math.abs(d.percent - dfPct) <= 1, `ours ${d.percent}% vs df ${dfPct}%`);
  // df -P prints 1024-byte blocks; sizes agree within a block or two of churn
  assert.ok(Math.abs(d.size / 1024 - Number(row[1])) < 1024 * 1024, `size ${d.size} vs ${row[1]} KiB`);
}));

test('real /proc/self/mounts includes / and no pseudo filesystem', () => {
  if (process.platform !== 'linux') return;
  const mounts = readMounts();
  assert.ok(mounts.some((m) => m.mount === '/'), JSON.stringify(mounts));
  assert.not.ok(mounts.some((m) => ['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts'].includes(m.type)));
});

test('mount table: one read a tick, parsed again only when it changed, the root\'s type known', () => {
  const root = tempDir('hw-mounts-');
  mkdirSync(join(root, 'self'));
  const path = join(root, 'self/mounts');
  writeFileSync(path, '/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\n');
  let now = 0;
  const t = new MountTable(root, () => now);
  const first = t.list();
  assert.equal(first, [{ fs: '/dev/vda', mount: '/', type: 'ext4' }]);
  assert.is(t.typeOf('/'), 'ext4');
  assert.is(t.typeOf('/nowhere'), '');
  now = 1000;
  assert.ok(t.list() === first, 'same bytes: the parsed list is kept');
  writeFileSync(path, '/dev/vda / ext4 rw 0 0\nserver:/x /mnt/x nfs4 rw 0 0\n');
  now = 1010;
  assert.ok(t.list() === first, 'same tick: not read again');
  now = 2000;
  assert.equal(t.list().map((m) => m.mount), ['/', '/mnt/x']);
  assert.is(t.typeOf('/mnt/x'), 'nfs4');
  // A type lookup (each report's root) takes a table up to 5 s old; list() reads again each tick.
  writeFileSync(path, '/dev/vda / xfs rw 0 0\n');
  now = 2000 + SLOW_READING_MAX_AGE_MS - 1;
  assert.is(t.typeOf('/'), 'ext4', 'a recent table answers the type');
  now = 2000 + SLOW_READING_MAX_AGE_MS;
  assert.is(t.typeOf('/'), 'xfs', 'read again once 5 s old');
  t.close();
});

test('mount table: an unreadable table is UNAVAILABLE, and an unknown root type keeps the statfs deadline', () => {
  const t = new MountTable(join(tempDir('hw-mounts-'), 'nowhere'));
  assert.throws(() => t.list(), (e: unknown) => e instanceof HwError && e.code === 'UNAVAILABLE');
  assert.is(t.typeOf('/'), '');
});

test('real machine: the mount table gives what readMounts gives, and local statfs matches the async one', timed(10_000, async () => {
  if (process.platform !== 'linux') return;
  const t = new MountTable();
  assert.equal(t.list(), readMounts());
  const type = t.typeOf('/');
  assert.ok(type.length > 0, 'the root has a type');
  const inline = await diskUsage({ fs: '/', mount: '/', type });
  const viaDeadline = await diskUsage({ fs: '/', mount: '/', type: '' });
  assert.is(inline.size, viaDeadline.size);
  assert.ok(Math.abs(inline.used - viaDeadline.used) < 64 * 1024 * 1024, 'the same filesystem, moments apart');
  t.close();
}));

test.run();
