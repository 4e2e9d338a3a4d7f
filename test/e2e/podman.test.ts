// Containers through a real Podman (a rootful `podman system service` on a private socket, see
// podman.helper.ts) with the built manager and agent: the agent finds the engine through
// CONTAINER_HOST alone, as podman's own client does; lists the containers with image, state,
// health (a healthcheck run by `podman healthcheck run`: without systemd Podman runs none on its
// own) and restart count; reads a busy container's CPU and memory from its cgroup files (Podman's
// libpod_parent/libpod-<id> here) near `podman stats`; reads a container's log and restarts one;
// a `metric: container` rule fires when a container is stopped and resolves when it runs again;
// and the container history keeps the busy one. Skipped, with the reason, where Podman cannot
// run, except in CI (which installs it).

import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { apiJson, cli, cliJson, killAll, startAgent, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';
import { importBusyboxPodman, PODMAN_IMAGE, PODMAN_REQUIRED, podmanMissing, startPodman, type Podman } from './podman.helper.ts';
import type { ContainerRow, ContainersResult } from '../../common/collect/containers/types.ts';
import type { ContainerHistory } from '../../common/api/types.ts';

const test = suite('e2e/podman');
const missing = podmanMissing();
let p: Podman | undefined;
let mgr: ManagerProc | undefined;
const SLEEP = ['/bin/sleep', '100000'];
const hcDir = tempDir('hw-podman-hc-');

// uvu fails the suite on a hook's error without printing it: printed here.
test.before(() => setUp().catch((err) => {
  console.error(`  podman suite set-up failed: ${(err as Error).stack}`);
  throw err;
}));

async function setUp(): Promise<void> {
  if (missing) {
    if (PODMAN_REQUIRED) throw new Error(`Podman is required here (CI): ${missing}`);
    return;
  }
  p = await startPodman();
  await importBusyboxPodman(p);
  // Stopped by SIGKILL at once: a shell or sleep as a container's first process ignores SIGTERM,
  // and `container-restart` would wait its 10 s for it.
  const run = (name: string, cmd: string[], extra: string[] = []) => p!.podman(['run', '-d', '--name', name, '--network', 'none', '--stop-signal', 'KILL', ...extra, PODMAN_IMAGE, ...cmd]);
  await run('busy', ['/bin/sh', '-c', 'echo busy started; yes > /dev/null']);
  // Its healthcheck reads a file of this test's (no `podman exec`: an exec session's conmon outlives it by minutes).
  writeFileSync(join(hcDir, 'ok'), 'ok');
  await run('hc', SLEEP, ['--volume', `${hcDir}:/h`, '--health-cmd', 'cat /h/ok', '--health-retries', '1']);
  await run('web-stop', SLEEP, ['--memory', '64m']);
  // Restarted by Podman itself (conmon's exit command), a second apart.
  await run('looper', ['/bin/sh', '-c', 'sleep 1; exit 1'], ['--restart', 'always']);
  // Runs to its end: a stopped container with something in its log, on both streams.
  await p.podman(['run', '--name', 'talker', '--network', 'none', PODMAN_IMAGE, '/bin/sh', '-c', 'echo line one; echo line two; echo to stderr >&2']);
  const cfg = join(tempDir('hw-podman-cfg-'), 'manager.yaml');
  writeFileSync(cfg, 'rules:\n  containers_down: { metric: container, only: ["web-*"], for: 1s }\n');
  mgr = await startManager(['--config', cfg]);
  // Only CONTAINER_HOST says where the engine is (an inherited DOCKER_HOST would come first), in
  // the form podman(1) shows: unix://run/podman/podman.sock, which Podman reads as /run/...
  const agent = startAgent(mgr, ['--name', 'pod', '--allow-container-restart', '--containers-every', '10s'], undefined, true, { CONTAINER_HOST: `unix:/${p.socket}`, DOCKER_HOST: '' });
  await waitOnline(mgr.dataDir, 'pod', undefined, agent, mgr);
}

test.after(async () => {
  await killAll();
  await p?.stop();
  cleanTempDirs();
});

const list = () => apiJson<ContainersResult>(mgr!.dataDir, '/api/agents/pod/containers');
const byName = (r: ContainersResult, name: string): ContainerRow => {
  const row = r.containers.find((c) => c.name === name);
  assert.ok(row, `${name} listed: ${r.containers.map((c) => c.name).join(', ')}`);
  return row!;
};

/** "327.7kB" (podman stats' decimal units) in bytes. */
function bytesOf(s: string): number {
  const m = /^([\d.]+)\s*([kMGT]?)B$/.exec(s.trim());
  assert.ok(m, `a size: ${s}`);
  return Number(m![1]) * 1000 ** ' kMGT'.indexOf(m![2] || ' ');
}

test('found through CONTAINER_HOST: name, image, state, health and restart count of each container', timed(30_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  console.log(`  podman ${p!.version}, runtime ${p!.runtime}`);
  const r = await list();
  assert.equal(r.engine, { socket: p!.socket, from: 'CONTAINER_HOST' });
  const busy = byName(r, 'busy');
  assert.equal([busy.image, busy.state, busy.restartCount, busy.health], [PODMAN_IMAGE, 'running', 0, null]);
  const talker = byName(r, 'talker');
  assert.is(talker.state, 'exited');
  assert.match(talker.status, /^Exited \(0\)/);
  assert.ok(talker.reasons?.usage, 'a stopped container says why it has no usage');
  assert.is(byName(r, 'web-stop').memLimitBytes, 64 * 1024 * 1024, 'its --memory limit, from its cgroup');
  assert.is(byName(r, 'hc').health, 'starting');
  await waitFor(async () => byName(await list(), 'looper').restartCount! >= 2, 15_000, 'looper restarted twice');
  // The healthcheck, run once: the agent learns it from the engine's event stream.
  await p!.podman(['healthcheck', 'run', 'hc']);
  await waitFor(async () => byName(await list(), 'hc').health === 'healthy', 15_000, 'hc healthy');
  rmSync(join(hcDir, 'ok'));
  await p!.podman(['healthcheck', 'run', 'hc']).catch(() => {}); // exits 1: unhealthy
  await waitFor(async () => byName(await list(), 'hc').health === 'unhealthy', 15_000, 'hc unhealthy');
  const text = await cli(mgr!.dataDir, ['containers', 'pod']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /busy\s+localhost\/bb:local\s+running/);
  assert.match(text.stdout, /talker\s+localhost\/bb:local\s+exited/);
}));

/**
 * `podman stats --interval 2` over the busy container: at each of its lines `atLine` runs (ours,
 * asked at the same moment: our CPU % is the delta since our previous reading); resolves with its
 * CPU % and memory columns once `n` lines came. Its first line is since the container started.
 */
function podmanStats(n: number, atLine: () => Promise<ContainerRow>): Promise<{ theirs: string[]; ours: ContainerRow[] }> {
  const c = spawn('podman', ['--url', `unix://${p!.socket}`, 'stats', '--interval', '2', '--format', '{{.CPUPerc}}|{{.MemUsage}}', 'busy'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const theirs: string[] = [];
  const ours: Promise<ContainerRow>[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: c.stdout }).on('line', (line) => {
      if (theirs.length >= n) return;
      theirs.push(line.trim());
      ours.push(atLine());
      if (theirs.length === n) {
        c.kill();
        Promise.all(ours).then((o) => resolve({ theirs, ours: o }), reject);
      }
    });
    c.on('exit', () => theirs.length < n && reject(new Error(`podman stats ended after ${theirs.length} lines`)));
  });
}

test('CPU and memory from the cgroup files, near podman stats over the same seconds', timed(30_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const { theirs, ours } = await podmanStats(4, async () => byName(await list(), 'busy'));
  // Each window after the first: theirs over its 2 s, ours since the line before (the agent's own
  // reports may read in between: a shorter window of ours). The mean over three windows is compared.
  const cpu = theirs.slice(1).map((l) => parseFloat(l.split('|')[0]!));
  const mine = ours.slice(1).map((r) => r.cpuPercent!);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(`  busy container CPU, three 2 s windows: ours ${mine.join(', ')}%, podman stats ${cpu.join(', ')}%`);
  assert.ok(mean(cpu) > 2, `podman stats shows the busy container using CPU: ${cpu} (a loaded machine gives it less than a core)`);
  assert.ok(Math.abs(mean(mine) - mean(cpu)) <= 10, `ours ${mine} vs podman stats ${cpu}`);
  const mem = theirs.at(-1)!.split('|')[1]!;
  const [used, limit] = mem.split(' / ').map(bytesOf);
  const busy = ours.at(-1)!;
  console.log(`  memory: ours ${busy.memUsedBytes} of ${busy.memLimitBytes}, podman stats ${mem}`);
  assert.ok(Math.abs(busy.memUsedBytes! - used!) <= Math.max(used! * 0.1, 256 * 1024), `memory ours ${busy.memUsedBytes} vs ${used}`);
  assert.ok(Math.abs(busy.memLimitBytes! - limit!) <= limit! * 0.01, `limit ours ${busy.memLimitBytes} vs ${limit}`);
}));

test('container-logs reads what a container printed; container-restart starts it again', timed(40_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const logs = await apiJson(mgr!.dataDir, '/api/agents/pod/containers/talker/logs?lines=10');
  const of = (stream: string) => logs.lines.filter((l: { stream: string }) => l.stream === stream).map((l: { text: string }) => l.text);
  assert.equal(of('stdout'), ['line one', 'line two']);
  assert.equal(of('stderr'), ['to stderr']);
  const cliLogs = await cli(mgr!.dataDir, ['container-logs', 'pod', 'busy', '-n', '5']);
  assert.is(cliLogs.code, 0, cliLogs.stderr);
  assert.match(cliLogs.stdout, /busy started/);
  const before = byName(await list(), 'busy');
  const r = await cli(mgr!.dataDir, ['container-restart', 'pod', 'busy', '--yes'], 30_000);
  assert.is(r.code, 0, r.stderr);
  const after = byName(await list(), 'busy');
  assert.is(after.state, 'running');
  assert.ok(after.startedAt! > before.startedAt!, `started again: ${before.startedAt} -> ${after.startedAt}`);
}));

test('a container rule fires when its container is stopped and resolves when it runs again', timed(60_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const alerts = async () => (await cliJson<any[]>(mgr!.dataDir, ['alerts'])).filter((a) => a.rule === 'containers_down').map((a) => [a.type, a.labels?.container]);
  await waitFor(async () => (await cliJson<any[]>(mgr!.dataDir, ['rules', 'pod']))[0]?.inSync, 15_000, 'pod runs the rules');
  assert.equal(await alerts(), [], 'nothing fires while web-stop runs');
  await p!.podman(['stop', '--time', '0', 'web-stop']);
  // The agent lists the containers every 10 s.
  await waitFor(async () => (await alerts()).length >= 1, 25_000, 'CONTAINERS_DOWN');
  await p!.podman(['start', 'web-stop']);
  await waitFor(async () => (await alerts()).length >= 2, 25_000, 'CONTAINERS_DOWN_RESOLVED');
  assert.equal(await alerts(), [['CONTAINERS_DOWN', 'web-stop'], ['CONTAINERS_DOWN_RESOLVED', 'web-stop']]);
}));

test('the container history keeps the busy container\'s CPU and memory (a record every 10 s)', timed(30_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const h = await waitFor(async () => {
    const v = await apiJson<ContainerHistory>(mgr!.dataDir, '/api/agents/pod/containers/history?since=10m');
    return v.containers.find((c) => c.name === 'busy')?.cpuPercent.some((x) => x !== null) ? v : undefined;
  }, 25_000, 'a record with the busy container\'s CPU');
  const busy = h.containers.find((c) => c.name === 'busy')!;
  const cpu = busy.cpuPercent.filter((v): v is number => v !== null);
  console.log(`  busy container CPU in history: ${cpu.join(', ')}%`);
  assert.ok(h.reported);
  // A record across the restart above covers the new process for part of its period only.
  assert.ok(Math.max(...cpu) > 5 && cpu.every((v) => v >= 0 && v < 130), `${cpu}`);
  assert.ok(busy.memUsedBytes.some((v) => v !== null && v > 0));
  assert.is(h.containers[0]!.name, 'busy', 'the busiest first');
}));

test.run();
