// Containers against a real Docker Engine (dockerd on a private socket, see dockerd.helper.ts): the
// agent lists a busy and a stopped container with their states and the busy one's CPU near
// `docker stats`, reads a container's log, restarts one only where allowed and only for an admin,
// and says which sockets it tried when there is no engine. Skipped, with the reason, where dockerd
// cannot run (not root, not installed); CI installs docker.io and busybox-static.

import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent } from './inproc.helper.ts';
import { cli } from './procs.helper.ts';
import { dockerdMissing, importBusybox, IMAGE, startDockerd, type Dockerd } from './dockerd.helper.ts';
import type { ContainerRow, ContainersResult } from '../../common/collect/containers/types.ts';
import { browserMissing, launch, newContext, screenshot, signIn } from './browser.helper.ts';
import { sessionHeaders } from './session.helper.ts';

const test = suite('e2e/containers');
const missing = dockerdMissing();
let d: Dockerd | undefined;
// Registered first so dockerd is stopped before the temp folders (its data root) are removed.
test.after(async () => {
  await d?.stop();
});
const { agents, closers } = cleanupAfterEach(test);

test.before(async () => {
  if (missing) return;
  d = await startDockerd();
  await importBusybox(d);
  await d.docker(['run', '-d', '--name', 'busy', '--network', 'none', IMAGE, '/bin/sh', '-c', 'echo busy started; yes > /dev/null']);
  // Runs to its end: a stopped container with something in its log, on both streams.
  await d.docker(['run', '--name', 'talker', '--network', 'none', IMAGE, '/bin/sh', '-c', 'echo line one; echo line two; echo to stderr >&2']);
});
interface Answer { status: number; body: any }

function call(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let v: any = text;
        try {
          v = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: v });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const viewerSession = (port: number) => sessionHeaders(port, 'vic', 'viewer-password-1');

/** A manager, and agents reading the private engine (through their config: no process.env change). */
async function setup(extra: { allowContainerRestart?: boolean } = {}) {
  const s = await serveTest();
  closers.push(s.close);
  const agent = await testAgent(s, drivenDeps(), { name: 'dock', containerEngine: { env: { DOCKER_HOST: `unix://${d!.socket}` } }, ...extra });
  agents.push(agent);
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'dock' && a.online), 15_000, 'dock online');
  const token = { authorization: `Bearer ${readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim()}` };
  return { s, token };
}

const byName = (r: ContainersResult, name: string): ContainerRow => {
  const row = r.containers.find((c) => c.name === name);
  assert.ok(row, `${name} listed: ${r.containers.map((c) => c.name).join(', ')}`);
  return row!;
};

test('lists the busy and the stopped container with their states; CPU near docker stats', timed(120_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const { s, token } = await setup();
  const first = await call(s.apiPort, 'GET', '/api/agents/dock/containers', token);
  assert.is(first.status, 200, JSON.stringify(first.body));
  const r = first.body as ContainersResult;
  assert.equal(r.engine, { socket: d!.socket, from: 'DOCKER_HOST' });
  const busy = byName(r, 'busy');
  const talker = byName(r, 'talker');
  assert.is(busy.state, 'running');
  assert.is(busy.image, IMAGE);
  assert.is(talker.state, 'exited');
  assert.match(talker.status, /^Exited \(0\)/);
  assert.is(talker.cpuPercent, null);
  assert.ok(talker.reasons?.usage, 'a stopped container says why it has no usage');
  assert.is(busy.restartCount, 0);
  assert.ok(busy.memUsedBytes! > 0 && busy.memLimitBytes! >= busy.memUsedBytes!, `memory ${busy.memUsedBytes} / ${busy.memLimitBytes}`);
  // CPU: ours over the same seconds as docker stats' own two readings.
  const theirs = d!.docker(['stats', '--no-stream', '--format', '{{.CPUPerc}}', 'busy']);
  const [ours] = await Promise.all([new Promise((r) => setTimeout(r, 1500)).then(() => call(s.apiPort, 'GET', '/api/agents/dock/containers', token)), theirs]);
  const stats = parseFloat(await theirs);
  const mine = byName(ours.body, 'busy').cpuPercent!;
  console.log(`  busy container CPU: ours ${mine}%, docker stats ${stats}%`);
  assert.ok(stats > 2, `docker stats shows the busy container using CPU: ${stats}% (a loaded machine gives it less than a core)`);
  assert.ok(Math.abs(mine - stats) <= 10, `ours ${mine}% vs docker stats ${stats}%`);
  // The CLI prints the same (a viewer's route).
  const text = await cli(s.dataDir, ['containers', 'dock']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /busy\s+bb:local\s+running/);
  assert.match(text.stdout, /talker\s+bb:local\s+exited/);
  // Several hosts by --all: one block a host, through the same viewer's route.
  const all = await cli(s.dataDir, ['containers', '--all', '--json']);
  assert.is(all.code, 0, all.stderr);
  const line = JSON.parse(all.stdout.trim().split('\n')[0]!);
  assert.is(line.agent, 'dock');
  assert.ok(line.ok && line.result.containers.some((c: ContainerRow) => c.name === 'busy'));
}));

test('container-logs returns what the container printed (admin only); a viewer may list but not read logs', timed(60_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const { s, token } = await setup();
  const logs = await call(s.apiPort, 'GET', '/api/agents/dock/containers/talker/logs?lines=10', token);
  assert.is(logs.status, 200, JSON.stringify(logs.body));
  // In order within a stream; the engine keeps no order between stdout and stderr (two pipes).
  const of = (stream: string) => logs.body.lines.filter((l: { stream: string }) => l.stream === stream).map((l: { text: string }) => l.text);
  assert.equal(of('stdout'), ['line one', 'line two']);
  assert.equal(of('stderr'), ['to stderr']);
  const two = await call(s.apiPort, 'GET', '/api/agents/dock/containers/talker/logs?lines=1', token);
  assert.is(two.body.lines.length, 1);
  const cliLogs = await cli(s.dataDir, ['container-logs', 'dock', 'busy', '-n', '5']);
  assert.is(cliLogs.code, 0, cliLogs.stderr);
  assert.match(cliLogs.stdout, /busy started/);
  assert.is((await call(s.apiPort, 'GET', '/api/agents/dock/containers/nosuch/logs', token)).body.error.code, 'CONTAINER_NOT_FOUND');
  assert.is((await call(s.apiPort, 'GET', '/api/agents/dock/containers/talker/logs?lines=1001', token)).body.error.code, 'BAD_ARGS');
  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const viewer = await viewerSession(s.apiPort);
  assert.is((await call(s.apiPort, 'GET', '/api/agents/dock/containers', viewer)).status, 200);
  const refused = await call(s.apiPort, 'GET', '/api/agents/dock/containers/talker/logs', viewer);
  assert.is(refused.status, 403);
  assert.is(refused.body.error.code, 'FORBIDDEN');
}));

test('container-restart: refused without --allow-container-restart and to a viewer; with it the container starts again, audited', timed(90_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const { s, token } = await setup();
  const no = await call(s.apiPort, 'POST', '/api/agents/dock/containers/busy/restart', token, '{}');
  assert.is(no.body.error?.code, 'CONTAINER_RESTART_DISABLED', JSON.stringify(no.body));
  assert.is(no.status, 403);
  const cliNo = await cli(s.dataDir, ['container-restart', 'dock', 'busy', '--yes']);
  assert.not.equal(cliNo.code, 0);
  assert.match(cliNo.stderr, /CONTAINER_RESTART_DISABLED|--allow-container-restart/);

  const { s: s2, token: t2 } = await setup({ allowContainerRestart: true });
  await s2.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const viewer = await viewerSession(s2.apiPort);
  const v = await call(s2.apiPort, 'POST', '/api/agents/dock/containers/busy/restart', viewer, '{}');
  assert.is(v.status, 403);
  assert.is(v.body.error.code, 'FORBIDDEN');
  const before = byName((await call(s2.apiPort, 'GET', '/api/agents/dock/containers', t2)).body, 'busy');
  const cliYes = await cli(s2.dataDir, ['container-restart', 'dock', 'busy', '--yes'], 40_000);
  assert.is(cliYes.code, 0, cliYes.stderr);
  const after = byName((await call(s2.apiPort, 'GET', '/api/agents/dock/containers', t2)).body, 'busy');
  assert.is(after.state, 'running');
  assert.ok(after.startedAt! > before.startedAt!, `started again: ${before.startedAt} -> ${after.startedAt}`);
  const audit = readEvents(s2.dataDir).filter((e) => JSON.stringify(e).includes('container-restart'));
  assert.ok(audit.length >= 1, 'the restart is in the manager\'s record');
  // Without a TTY `docker restart` needs no confirmation from the CLI here: --yes was given; without it and no terminal, refused.
  const ask = await cli(s2.dataDir, ['container-restart', 'dock', 'busy']);
  assert.not.equal(ask.code, 0);
  assert.match(ask.stderr, /--yes/);
}));

test('live reports carry the containers; /metrics shows them with container and image labels', timed(60_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  const s = await serveTest({ metrics: { host: '127.0.0.1', port: 0 } });
  closers.push(s.close);
  const agent = await testAgent(s, drivenDeps(), { name: 'dock', containerEngine: { env: { DOCKER_HOST: `unix://${d!.socket}` } } });
  agents.push(agent);
  const rec = await waitFor(() => s.manager.state.agents().find((a) => a.name === 'dock' && a.containers?.length), 30_000, 'a report with containers');
  const busy = rec.containers!.find((c) => c.name === 'busy');
  assert.ok(busy && busy.state === 'running' && busy.image === IMAGE, JSON.stringify(rec.containers));
  assert.is(rec.containers!.find((c) => c.name === 'talker')?.state, 'exited');
  const text = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
  assert.match(text, /hostwatch_container_up\{agent="dock",agent_id="[^"]+",container="busy",image="bb:local"\} 1\n/);
  assert.match(text, /hostwatch_container_up\{agent="dock",agent_id="[^"]+",container="talker",image="bb:local"\} 0\n/);
  assert.match(text, /hostwatch_container_memory_used_bytes\{agent="dock",agent_id="[^"]+",container="busy",image="bb:local"\} \d+/);
}));

test('a container in a restart loop: its restart count goes up', timed(90_000, async () => {
  if (missing) return console.log(`  skipped: ${missing}`);
  await d!.docker(['run', '-d', '--name', 'looper', '--restart', 'always', '--network', 'none', IMAGE, '/bin/sh', '-c', 'sleep 1; exit 1']);
  const { s, token } = await setup();
  const row = await waitFor(async () => {
    const r = byName((await call(s.apiPort, 'GET', '/api/agents/dock/containers', token)).body, 'looper');
    return r.restartCount! >= 2 ? r : undefined;
  }, 60_000, 'looper restarted twice');
  assert.ok(row.restartCount! >= 2);
  await d!.docker(['rm', '-f', 'looper']);
}));

test('the host page shows the containers table to a viewer (light and dark, wide and 390 px)', timed(120_000, async () => {
  const why = missing ?? browserMissing();
  if (why) return console.log(`  skipped: ${why}`);
  const { s } = await setup();
  await s.dashboard.users.add('vic', 'viewer', 'viewer-password-1');
  const browser = await launch();
  closers.push(() => browser.close());
  const base = `http://127.0.0.1:${s.apiPort}/`;
  for (const look of [{ dark: false, width: 1440 }, { dark: true, width: 390 }]) {
    const ctx = await newContext(browser, { dark: look.dark, width: look.width, height: 900 });
    const page = await ctx.newPage();
    await signIn(page, base, 'vic', 'viewer-password-1');
    await page.goto(`${base}#/host/${s.manager.state.agents().find((a) => a.name === 'dock')!.id}`);
    const table = page.getByRole('table', { name: 'Containers' });
    await table.getByRole('cell', { name: 'busy', exact: true }).waitFor();
    assert.is(await table.locator('tr[data-state="exited"]').getByRole('cell', { name: 'talker', exact: true }).count(), 1);
    // A stopped container's state stands out in the alert colour; a running one's does not.
    const colour = (state: string) => table.locator(`tr[data-state="${state}"] td.state`).first().evaluate((td) => (globalThis as any).getComputedStyle(td).color as string);
    const bad = await page.evaluate(`getComputedStyle(document.documentElement).getPropertyValue('--bad').trim()`) as string;
    const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    assert.is(await colour('exited'), rgb(bad));
    assert.is.not(await colour('running'), rgb(bad));
    await page.getByRole('button', { name: 'Refresh containers' }).click();
    await table.getByRole('cell', { name: 'busy', exact: true }).waitFor();
    await screenshot(page, `host-containers-${look.dark ? 'dark' : 'light'}-${look.width}`);
    await ctx.close();
  }
}));

test('no engine: the answer names each socket tried and why, not an empty list', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const dir = tempDir('hw-noengine-');
  const agent = await testAgent(s, drivenDeps(), { name: 'bare', containerEngine: { env: { XDG_RUNTIME_DIR: dir } } });
  agents.push(agent);
  await waitFor(() => s.manager.state.agents().some((a) => a.name === 'bare' && a.online), 15_000, 'bare online');
  const token = { authorization: `Bearer ${readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim()}` };
  const r = await call(s.apiPort, 'GET', '/api/agents/bare/containers', token);
  assert.is(r.body.error?.code, 'ENGINE_UNREACHABLE', JSON.stringify(r.body));
  assert.is(r.status, 503);
  for (const p of ['/var/run/docker.sock', '/run/podman/podman.sock', `${dir}/podman/podman.sock`]) assert.ok(r.body.error.message.includes(p), r.body.error.message);
  assert.match(r.body.error.message, `${dir}/podman/podman.sock (rootless Podman socket ($XDG_RUNTIME_DIR)): ENOENT`);
  const text = await cli(s.dataDir, ['containers', 'bare']);
  assert.not.equal(text.code, 0);
  assert.match(text.stderr, /ENGINE_UNREACHABLE|tried/);
}));

test('an agent that did not name the containers feature is refused by the manager (AGENT_TOO_OLD), nothing sent', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const agent = await testAgent(s, drivenDeps(), { name: 'old' });
  agents.push(agent);
  const rec = await waitFor(() => s.manager.state.agents().find((a) => a.name === 'old' && a.online), 15_000, 'old online');
  // What an older agent's hello leaves: a link whose features do not name containers.
  const link = (s.manager as unknown as { links: Map<string, { features: ReadonlySet<string> }> }).links.get(rec.id)!;
  assert.ok(link.features.has('containers'), 'this agent names it');
  Object.defineProperty(link, 'features', { value: new Set(['signed-acks']) });
  const token = { authorization: `Bearer ${readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim()}` };
  const r = await call(s.apiPort, 'GET', '/api/agents/old/containers', token);
  assert.is(r.body.error?.code, 'AGENT_TOO_OLD', JSON.stringify(r.body));
}));

test.run();
