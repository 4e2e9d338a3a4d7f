// Fault injection with real manager processes: kill -9 during an alert storm and during a file
// download, then restart; a long outage; a thousand agents coming back after a restart.

import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFleet } from '../../scripts/lib/fleet.ts';
import { Backoff } from '../../common/util/backoff.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { BACK_AFTER_RESTART_MS, cli, startAgent, startManager, waitOnline } from './procs.helper.ts';
import { drivenDeps, testAgent, testIdentity, cleanupAfterEach } from './inproc.helper.ts';

const { agents } = cleanupAfterEach(test);

const alertsLogged = (dir: string) => readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n')
  .filter((l) => l.includes('"event":"alert"')).map((l) => { try { return JSON.parse(l).alert; } catch { return null; } }).filter(Boolean);

test('kill -9 of the manager during an alert storm: after a restart every alert is there once', timed(BACK_AFTER_RESTART_MS + 60_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  const m1 = await startManager(['--auto-accept'], dataDir);
  const deps = drivenDeps();
  const agent = await testAgent(m1, deps, { name: 'stormy', cpuForS: 0.04, cpuSampleMs: 20, alertRetryMs: 50, backoff: undefined });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  // Flip CPU every 60 ms: an alert roughly every 60 ms, over UDP and TCP at once.
  let raised = 0;
  agent.on('alert', () => raised++);
  const flip = setInterval(() => { deps.cpu = deps.cpu === 99 ? 1 : 99; }, 60);
  await waitFor(() => raised >= 20, 10_000, '20 alerts');
  await m1.kill('SIGKILL');
  await waitFor(() => raised >= 30, 10_000, 'more alerts while the manager is dead');
  clearInterval(flip);
  deps.cpu = 50; // inside the hysteresis band: neither high nor normal, so no further alert
  // Counted once the agent has read 50% a few windows over (counted in readings, not waited out in
  // time: a loaded machine may not have evaluated the last flip yet after any fixed wait).
  const read = deps.cpuPercent;
  let reads = 0;
  deps.cpuPercent = () => { reads++; return read(); };
  await waitFor(() => reads >= 10, 10_000, 'ten readings at 50%');
  const total = raised;
  const m2 = await startManager(['--auto-accept', '--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)], dataDir);
  // The agent (default backoff) may be up to the cap away from its next attempt.
  await waitFor(() => agent.pendingAlerts() === 0, BACK_AFTER_RESTART_MS, 'queue drained');
  await new Promise((r) => setTimeout(r, 300));
  const seqs = alertsLogged(dataDir).filter((a: any) => a.agent === 'stormy').map((a: any) => a.seq).sort((a: number, b: number) => a - b);
  assert.equal(seqs, Array.from({ length: total }, (_, i) => i + 1), 'each alert exactly once across the crash');
  const listed = JSON.parse((await cli(dataDir, ['alerts', '--json'])).stdout).filter((a: any) => a.agent === 'stormy');
  assert.is(listed.length, total, '`alerts` shows each once');
  await m2.kill();
}));

test('kill -9 of the manager during a download: no file that looks complete, the cut reported', timed(BACK_AFTER_RESTART_MS + 60_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  const m1 = await startManager([], dataDir);
  const work = tempDir('hw-fetch-');
  const big = join(work, 'big.img');
  writeFileSync(big, '');
  truncateSync(big, 2 * 1024 * 1024 * 1024); // sparse: costs no disk
  const agent = startAgent(m1, ['--name', 'source', '--files-root', work]);
  await waitOnline(dataDir, 'source', 30_000, agent, m1);
  const outDir = tempDir('hw-out-');
  const dest = join(outDir, 'copy.img');
  const fetching = cli(dataDir, ['fetch', 'source', big, dest], 60_000);
  await waitFor(() => readdirSync(outDir).some((f) => f.includes('.part-')), 20_000, 'transfer under way');
  await m1.kill('SIGKILL');
  const r = await fetching;
  assert.is.not(r.code, 0, 'the CLI reports failure');
  assert.match(r.stderr, /TRANSFER_ABORTED|API_UNREACHABLE/);
  assert.not.ok(existsSync(dest), 'no file at the destination');
  assert.equal(readdirSync(outDir), [], 'no partial file left');
  await waitFor(() => /file transfer .* failed/.test(agent.output()), 10_000, 'the agent reports the cut');
  const m2 = await startManager(['--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)], dataDir);
  await waitOnline(dataDir, 'source', BACK_AFTER_RESTART_MS, agent, m2);
  await m2.kill();
}));

test('manager down for longer than the backoff cap: agents retry at most a cap apart and all come back', timed(60_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  const m1 = await startManager(['--auto-accept'], dataDir);
  const capMs = 500;
  // Every reconnect delay the agents draw (they are the only users of Backoff in this process).
  const delays: { ceiling: number; ms: number }[] = [];
  const draw = Backoff.prototype.next;
  Backoff.prototype.next = function (this: Backoff) {
    const ceiling = this.ceiling;
    const ms = draw.call(this);
    delays.push({ ceiling, ms });
    return ms;
  };
  const fleet = await startFleet({ count: 20, tcpPort: m1.tcpPort, udpPort: m1.udpPort, tls: await testIdentity(), backoffBaseMs: 50, backoffCapMs: capMs, namePrefix: 'longout' }).catch((err) => {
    Backoff.prototype.next = draw;
    throw err;
  });
  try {
    await waitFor(() => fleet.connected() === 20, 10_000, 'all connected');
    await m1.kill('SIGKILL');
    await waitFor(() => fleet.connected() === 0, 10_000, 'all disconnected');
    // Every agent's delay reaches the cap: checked by the delays they draw, not by the time they take
    // to come back (a loaded machine makes any reconnection slow).
    await waitFor(() => delays.filter((d) => d.ceiling === capMs).length >= 20 * 2, 30_000, 'delays at the cap');
    const m2 = await startManager(['--auto-accept', '--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)], dataDir);
    await waitFor(() => fleet.connected() === 20, 30_000, 'all back');
    const longest = Math.max(...delays.map((d) => d.ms));
    assert.ok(longest < capMs, `a reconnect waited ${longest} ms, past the ${capMs} ms cap`);
    assert.ok(delays.every((d) => d.ceiling <= capMs), 'no ceiling past the cap');
    await m2.kill();
  } finally {
    Backoff.prototype.next = draw;
    await fleet.stop();
  }
}));

/**
 * One request on a connection of its own, as the CLI makes it, answered within `ms`. A kept-alive
 * connection is not reused: the test process runs the thousand agents too, and when it is starved
 * for longer than the server's keep-alive timeout, its next request goes out on a connection the
 * server has just closed as idle ("socket hang up"): a race of HTTP keep-alive, not an API fault.
 */
function apiGet(port: number, token: string, path: string, ms = 30_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${token}` }, timeout: ms }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// Deadlines are generous (the thousand agents' TLS and reports run in this test's own process, which
// a loaded machine starves) but bounded; nothing here is a speed limit. What is checked: every agent
// comes back, the API answers throughout, and jitter spreads the returns over several seconds.
test('1,000 agents reconnecting after a manager restart: spread by jitter, API answering meanwhile', timed(300_000, async () => {
  const dataDir = tempDir('hw-mgr-');
  const m1 = await startManager(['--auto-accept'], dataDir);
  const n = 1000;
  const capMs = 3000;
  const fleet = await startFleet({
    count: n, tcpPort: m1.tcpPort, udpPort: m1.udpPort, tls: await testIdentity(), intervalS: 5, backoffCapMs: capMs, namePrefix: 'herd',
    rampMs: 3000, spreadSources: true,
  });
  try {
    await waitFor(() => fleet.connected() === n, 90_000, 'all connected', 200);
    await m1.kill('SIGTERM');
    await waitFor(() => fleet.connected() === 0, 30_000, 'all disconnected', 200);
    await new Promise((r) => setTimeout(r, capMs)); // every agent's next attempt is now after the restart
    const m2 = await startManager(['--auto-accept', '--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)], dataDir);
    const restarted = Date.now();
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    let answered = 0;
    // Bounded by progress, not by a total: a loaded machine slows the thousand handshakes, but 30 s
    // with none more back is a stall (the test's own budget bounds the whole).
    let back = fleet.connected();
    let progressAt = Date.now();
    while (fleet.connected() < n) {
      if (fleet.connected() > back) {
        back = fleet.connected();
        progressAt = Date.now();
      }
      assert.ok(Date.now() - progressAt < 30_000, `none more back for 30 s (${fleet.connected()} of ${n} are)`);
      assert.is(await apiGet(m2.apiPort, token, '/api/agents'), 200, 'API answers during the reconnect storm');
      answered++;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(answered > 0, 'the API was asked while agents were reconnecting');
    const secs = new Map<number, number>();
    for (const t of fleet.connectTimes) secs.set(Math.floor((t - restarted) / 1000), (secs.get(Math.floor((t - restarted) / 1000)) ?? 0) + 1);
    const busiest = Math.max(...secs.values());
    assert.ok(busiest < n * 0.8, `jitter spreads them: at most ${busiest} of ${n} in one second`);
    await m2.kill();
  } finally {
    await fleet.stop();
  }
}));

test.run();
