// Usage from cgroup files laid out as v1 and v2 hosts have them (a fake /proc and /sys/fs/cgroup).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readUsage } from '../../../common/collect/containers/cgroup.ts';
import { cleanTempDirs, tempDir } from '../../harness.helper.ts';

const test = suite('collect/containers/cgroup');
test.after(() => cleanTempDirs());

function files(root: string, tree: Record<string, string>): void {
  for (const [p, text] of Object.entries(tree)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}

const NETDEV = 'Inter-|   Receive\n face |bytes packets\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 1000 5 0 0 0 0 0 0 2000 6 0 0 0 0 0 0\n';

test('cgroup v1 (cpu,cpuacct joined): CPU ns, memory without inactive file pages, blkio, network but loopback', async () => {
  const root = tempDir('hw-cg1-');
  const cg = '/docker/abc';
  files(root, {
    'proc/42/cgroup': `12:memory:${cg}\n4:cpu,cpuacct:${cg}\n3:blkio:${cg}\n0::/\n`,
    'proc/42/net/dev': NETDEV,
    [`sys/cpu,cpuacct${cg}/cgroup.procs`]: '42\n',
    [`sys/cpu,cpuacct${cg}/cpuacct.usage`]: '5000000000\n',
    [`sys/memory${cg}/memory.usage_in_bytes`]: '1000000\n',
    [`sys/memory${cg}/memory.stat`]: 'cache 500000\ntotal_inactive_file 200000\n',
    [`sys/memory${cg}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`sys/blkio${cg}/blkio.throttle.io_service_bytes`]: '8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n',
  });
  const u = await readUsage(42, { root: join(root, 'sys'), proc: join(root, 'proc') }, { hostMem: 8e9 });
  assert.equal({ ...u, reasons: {} }, {
    cpuNs: 5e9, memUsedBytes: 800000, memLimitBytes: 8e9, blockReadBytes: 4096, blockWriteBytes: 8192, netRxBytes: 1000, netTxBytes: 2000, reasons: {},
  });
});

test('cgroup v2: cpu.stat, memory.current less inactive_file, memory.max, io.stat', async () => {
  const root = tempDir('hw-cg2-');
  const cg = '/system.slice/docker-abc.scope';
  files(root, {
    'proc/7/cgroup': `0::${cg}\n`,
    'proc/7/net/dev': NETDEV,
    [`sys${cg}/cpu.stat`]: 'usage_usec 2500000\nuser_usec 2000000\n',
    [`sys${cg}/memory.current`]: '3000000\n',
    [`sys${cg}/memory.stat`]: 'anon 100\ninactive_file 1000000\n',
    [`sys${cg}/memory.max`]: '268435456\n',
    [`sys${cg}/io.stat`]: '8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2 rios=1 wios=1\n',
  });
  const u = await readUsage(7, { root: join(root, 'sys'), proc: join(root, 'proc') }, { hostMem: 8e9 });
  assert.equal({ ...u, reasons: {} }, {
    cpuNs: 2.5e9, memUsedBytes: 2e6, memLimitBytes: 268435456, blockReadBytes: 101, blockWriteBytes: 202, netRxBytes: 1000, netTxBytes: 2000, reasons: {},
  });
});

test('Podman\'s paths: v1 cgroupfs (libpod_parent/libpod-<id>, each controller its own mount, a name=systemd line); v2 systemd with crun\'s container subgroup', async () => {
  const root = tempDir('hw-cgp-');
  const id = 'f52337f44c76859bb74b0f65b9810604219c696dcfb2fcc399ddc81c5a322fdc';
  const v1 = `/libpod_parent/libpod-${id}`;
  // As a rootful podman 4.3 (cgroupfs manager, runc) on a cgroup v1 host shows it.
  files(root, {
    'proc/15/cgroup': ['name=systemd', 'pids', 'blkio', 'memory', 'cpuacct', 'cpu'].map((c, i) => `${9 - i}:${c}:${v1}`).join('\n') + `\n0::${v1}\n`,
    'proc/15/net/dev': NETDEV,
    [`sys/cpuacct${v1}/cgroup.procs`]: '15\n',
    [`sys/cpuacct${v1}/cpuacct.usage`]: '6898231876\n',
    [`sys/memory${v1}/cgroup.procs`]: '15\n',
    [`sys/memory${v1}/memory.usage_in_bytes`]: '327680\n',
    [`sys/memory${v1}/memory.stat`]: 'total_inactive_file 0\n',
    [`sys/memory${v1}/memory.limit_in_bytes`]: '9223372036854771712\n',
  });
  const u1 = await readUsage(15, { root: join(root, 'sys'), proc: join(root, 'proc') }, { hostMem: 8e9 });
  assert.equal([u1.cpuNs, u1.memUsedBytes, u1.memLimitBytes], [6898231876, 327680, 8e9]);
  // crun under systemd puts the container's processes (and its limits) in a `container` subgroup of the scope.
  const v2 = `/machine.slice/libpod-${id}.scope/container`;
  files(root, {
    'proc/16/cgroup': `0::${v2}\n`,
    'proc/16/net/dev': NETDEV,
    [`sys2${v2}/cpu.stat`]: 'usage_usec 1000\n',
    [`sys2${v2}/memory.current`]: '4096\n',
    [`sys2${v2}/memory.stat`]: 'inactive_file 0\n',
    [`sys2${v2}/memory.max`]: '1048576\n',
  });
  const u2 = await readUsage(16, { root: join(root, 'sys2'), proc: join(root, 'proc') }, { hostMem: 8e9 });
  assert.equal([u2.cpuNs, u2.memUsedBytes, u2.memLimitBytes], [1e6, 4096, 1048576]);
});

test('a process that is gone: every value null, each with a reason', async () => {
  const root = tempDir('hw-cg0-');
  const u = await readUsage(99999, { root: join(root, 'sys'), proc: join(root, 'proc') });
  for (const k of ['cpuNs', 'memUsedBytes', 'netRxBytes'] as const) {
    assert.is(u[k], null);
    assert.ok(u.reasons[k], k);
  }
});

test('for a live report: CPU and memory in use only, the rest null with the reason; the folders found once per key', async () => {
  const root = tempDir('hw-cg3-');
  const cg = '/system.slice/docker-def.scope';
  files(root, {
    'proc/8/cgroup': `0::${cg}\n`,
    'proc/8/net/dev': NETDEV,
    [`sys${cg}/cpu.stat`]: 'usage_usec 1000\nuser_usec 500\n',
    [`sys${cg}/memory.current`]: '3000000\n',
    [`sys${cg}/memory.stat`]: 'anon 100\nfile 5\ninactive_file 1000000\nactive_file 7\n',
    [`sys${cg}/memory.max`]: 'max\n',
    [`sys${cg}/io.stat`]: '8:0 rbytes=100 wbytes=200 rios=1 wios=2\n',
  });
  const paths = { root: join(root, 'sys'), proc: join(root, 'proc') };
  const cache = new Map();
  const u = await readUsage(8, paths, { hostMem: 8e9, cache, key: 'def:8', reportOnly: true });
  assert.equal({ cpuNs: u.cpuNs, mem: u.memUsedBytes, limit: u.memLimitBytes, blk: u.blockReadBytes, net: u.netRxBytes }, { cpuNs: 1e6, mem: 2e6, limit: null, blk: null, net: null });
  assert.match(u.reasons.netRxBytes!, /not read for a live report/);
  // Found once: the process's cgroup file is not read again for the same key.
  rmSync(join(root, 'proc/8/cgroup'));
  writeFileSync(join(root, `sys${cg}/cpu.stat`), 'usage_usec 3000\n');
  assert.is((await readUsage(8, paths, { cache, key: 'def:8', reportOnly: true })).cpuNs, 3e6);
  assert.is((await readUsage(8, paths, { cache, key: 'other:8' })).cpuNs, null, 'another key looks again (and the process is gone)');
});

test.run();
