// Nobody locks others out of the manager's agent side, and an agent's reference names one agent:
// floods of pending enrollments and of handshakes from a few loopback addresses while a real agent
// from 127.0.0.1 still gets in; pending keys expire and are rejected in bulk; an agent whose id is
// another's name gets none of the other's commands; a new agent without a UUID id is refused.

import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOrCreateIdentity, type TlsIdentity } from '../../common/security/tls-identity.ts';
import { encodeJson, FrameDecoder, KIND_JSON } from '../../common/wire/frame.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli } from './procs.helper.ts';
import { cleanupAfterEach, drivenDeps, readEvents, serveTest, testAgent, testIdentity } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

/** A raw agent: TLS from `source` with `key`, a hello, and the manager's messages as they come. */
interface Raw {
  socket: TLSSocket;
  got: any[];
  closed: boolean;
}

function enroll(port: number, key: TlsIdentity, source: string, id: string, name: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    // localAddress works for TLS as for TCP; @types/node 20 just does not list it.
    const opts = { host: '127.0.0.1', port, key: key.key, cert: key.cert, rejectUnauthorized: false, localAddress: source };
    const socket = tlsConnect(opts as ConnectionOptions, () => {
      socket.write(encodeJson({ type: 'hello', v: 1, id, name, hostname: name, platform: 'linux', arch: 'x64', version: 'flood', interval: 5, restartAllowed: false, filesEnabled: false }));
      resolve(raw);
    });
    const raw: Raw = { socket, got: [], closed: false };
    const dec = new FrameDecoder();
    socket.on('data', (d: Buffer) => {
      for (const f of dec.push(d)) if (f.kind === KIND_JSON) raw.got.push(JSON.parse(f.body.toString()));
    });
    socket.on('close', () => { raw.closed = true; });
    socket.once('error', reject);
  });
}

/** What the manager first said: 'welcome:pending', 'welcome:accepted', or the bye's code. */
async function answer(r: Raw): Promise<string> {
  await waitFor(() => r.got.length > 0, 10_000, 'an answer to the hello');
  const m = r.got[0];
  return m.type === 'welcome' ? `welcome:${m.status}` : m.type === 'bye' ? String(m.reason).split(':')[0]! : m.type;
}

const byeOf = (r: Raw) => r.got.find((m) => m.type === 'bye')?.reason as string | undefined;

async function post(s: { dataDir: string }, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const info = JSON.parse(readFileSync(join(s.dataDir, 'manager.json'), 'utf8')) as { api: string };
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://${info.api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function get(s: { dataDir: string }, path: string): Promise<{ status: number; json: any }> {
  const info = JSON.parse(readFileSync(join(s.dataDir, 'manager.json'), 'utf8')) as { api: string };
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const res = await fetch(`http://${info.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: await res.json() };
}

test('pending flood from three addresses: each held to its quota, a real agent from 127.0.0.1 still enrolls and is accepted; reject by address, then all', timed(60_000, async () => {
  // Small limits keep the load small: 3 addresses x 8 keys would fill the 20 places without the per-address cap.
  const s = await serveTest({ autoAccept: false, tuning: { maxPending: 20, maxPendingPerAddress: 5 } });
  closers.push(s.close);
  const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const PER = 8;
  // A key each: one key is one pending entry (a second would replace the first).
  const keys = await Promise.all(Array.from({ length: sources.length * PER }, (_, i) => loadOrCreateIdentity(tempDir('hw-flood-key-'), 'agent', `flood-${i}`)));
  const flood: Raw[] = [];
  for (const [a, source] of sources.entries()) {
    for (let i = 0; i < PER; i++) flood.push(await enroll(s.tcpPort, keys[a * PER + i]!, source, randomUUID(), `flood-${a}-${i}`));
  }
  const answers = await Promise.all(flood.map(answer));
  for (const [a, source] of sources.entries()) {
    const mine = answers.slice(a * PER, (a + 1) * PER);
    assert.is(mine.filter((x) => x === 'welcome:pending').length, 5, `${source}: five pending (${mine})`);
    assert.is(mine.filter((x) => x === 'RATE_LIMITED').length, 3, `${source}: the rest refused (${mine})`);
  }
  assert.is(s.manager.state.pending().length, 15);
  const refused = readEvents(s.dataDir).filter((e) => e.event === 'refused' && e.code === 'RATE_LIMITED');
  assert.equal([...new Set(refused.map((e) => e.address))].sort(), sources, 'refusals recorded per address');
  assert.ok(refused.length <= sources.length, `one throttled record per address, not per id (${refused.length})`);

  // The real agent gets a place, and is accepted.
  const real = await testAgent(s, drivenDeps(), { name: 'real' });
  agents.push(real);
  await waitFor(() => s.manager.state.pending().some((a) => a.name === 'real' && a.online), 10_000, 'real agent pending');
  const acc = await cli(s.dataDir, ['accept', 'real']);
  assert.is(acc.code, 0, acc.stderr);
  await waitFor(() => s.manager.state.agents().find((a) => a.name === 'real')?.metrics, 10_000, 'real agent reporting');

  // Rejected by address: forgotten, disconnected with the reason, their keys refused from now on.
  const byAddress = await cli(s.dataDir, ['reject', '--address', '127.0.0.2/32', '--json']);
  assert.is(byAddress.code, 0, byAddress.stderr);
  assert.equal(JSON.parse(byAddress.stdout).map((a: any) => a.address), Array(5).fill('127.0.0.2'));
  const fromTwo = flood.slice(0, PER).filter((_, i) => answers[i] === 'welcome:pending');
  await waitFor(() => fromTwo.every((r) => r.closed), 5000, 'rejected ones disconnected');
  for (const r of fromTwo) assert.match(byeOf(r) ?? '', /^REJECTED/);
  assert.is(readEvents(s.dataDir).filter((e) => e.event === 'reject').length, 5, 'each rejection recorded');
  const again = await enroll(s.tcpPort, keys[0]!, '127.0.0.2', randomUUID(), 'flood-again');
  assert.is(await answer(again), 'REVOKED', 'a rejected key asking again');
  assert.is(await answer(await enroll(s.tcpPort, keys[PER - 1]!, '127.0.0.2', randomUUID(), 'late')), 'welcome:pending', 'the address has room again');

  // The API, every pending agent; bad selections are BAD_ARGS; an accepted agent is not rejected.
  assert.is((await post(s, '/api/pending/reject', {})).json.error.code, 'BAD_ARGS');
  assert.is((await post(s, '/api/pending/reject', { all: true, address: '127.0.0.3' })).json.error.code, 'BAD_ARGS');
  assert.is((await post(s, '/api/pending/reject', { address: 'not-an-ip' })).json.error.code, 'BAD_ARGS');
  assert.is((await post(s, '/api/pending/reject', { agent: 'real' })).json.error.code, 'BAD_ARGS');
  const all = await post(s, '/api/pending/reject', { all: true });
  assert.is(all.status, 200);
  assert.is(all.json.length, 11);
  assert.is(s.manager.state.pending().length, 0);
  const rec = s.manager.state.agents().find((a) => a.name === 'real');
  assert.ok(rec?.online && rec.trust === 'accepted', 'the real agent untouched');
  assert.is((await cli(s.dataDir, ['reject'])).code, 2, 'reject with nothing to say which is bad usage');
}));

test('a pending key not accepted in time is forgotten, recorded and told so; it may ask again', timed(20_000, async () => {
  const s = await serveTest({ autoAccept: false, tuning: { pendingTtlMs: 1000 } });
  closers.push(s.close);
  const key = await loadOrCreateIdentity(tempDir('hw-ttl-key-'), 'agent', 'ttl');
  const id = randomUUID();
  const r = await enroll(s.tcpPort, key, '127.0.0.2', id, 'slowpoke');
  assert.is(await answer(r), 'welcome:pending');
  await waitFor(() => r.closed, 5000, 'disconnected once expired');
  assert.match(byeOf(r) ?? '', /^ENROLLMENT_EXPIRED/);
  const ev = readEvents(s.dataDir).find((e) => e.event === 'pending-expired');
  assert.is(ev?.agent?.id, id, 'recorded');
  assert.is(s.manager.state.pending().length, 0);
  assert.is(s.manager.enrollment.get(id), undefined, 'gone from agents.json too');
  assert.is(await answer(await enroll(s.tcpPort, key, '127.0.0.2', id, 'slowpoke')), 'welcome:pending', 'asks again');
}));

test('handshake flood from four addresses: each held to its slots, a real agent from 127.0.0.1 still connects', timed(30_000, async () => {
  // Without the per-address cap, 4 x 8 connections would take all 24 slots for the handshake timeout.
  const s = await serveTest({ tuning: { maxHandshaking: 24, maxHandshakingPerAddress: 4, handshakeTimeoutMs: 20_000 } });
  closers.push(s.close);
  const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
  const socks: { s: Socket; closed: boolean }[] = [];
  closers.unshift(() => { for (const x of socks) x.s.destroy(); }); // before the manager's close waits on them
  for (const source of sources) {
    for (let i = 0; i < 8; i++) {
      // TCP that never sends its TLS ClientHello: a handshake that never finishes.
      const x = { s: netConnect({ port: s.tcpPort, host: '127.0.0.1', localAddress: source }), closed: false };
      x.s.on('error', () => {});
      x.s.on('close', () => { x.closed = true; });
      socks.push(x);
    }
  }
  await waitFor(() => socks.filter((x) => x.closed).length === 16 && s.manager.figures().handshaking === 16, 10_000, 'four a source held, the rest closed');
  for (const [a, source] of sources.entries()) {
    assert.is(socks.slice(a * 8, (a + 1) * 8).filter((x) => !x.closed).length, 4, `${source} holds 4 slots`);
  }
  const real = await testAgent(s, drivenDeps(), { name: 'real' });
  agents.push(real);
  await waitFor(() => real.connected && s.manager.state.agents().find((a) => a.name === 'real')?.online, 10_000, 'real agent connected');
  assert.is(s.manager.figures().handshaking, 16, 'while the flood still holds its slots');
  const refused = readEvents(s.dataDir).filter((e) => e.event === 'refused' && e.code === 'TOO_MANY_HANDSHAKES');
  assert.equal([...new Set(refused.map((e) => e.address))].sort(), sources, 'refusals recorded per address');
}));

test('an agent whose id is another agent\'s name gets none of its commands: the reference is AGENT_AMBIGUOUS, naming both', timed(30_000, async () => {
  // Two agents enrolled before ids were UUIDs: one has the id "db1", the other is named "db1".
  const dataDir = tempDir('hw-mgr-');
  const fingerprint = (await testIdentity()).fingerprint;
  const other = randomUUID();
  writeFileSync(join(dataDir, 'agents.json'), JSON.stringify({
    agents: [
      { id: 'db1', name: 'legacy-host', fingerprint, status: 'accepted', since: Date.now() },
      { id: other, name: 'db1', fingerprint, status: 'accepted', since: Date.now() },
    ],
    revoked: [],
  }));
  const s = await serveTest({ dataDir, autoAccept: false });
  closers.push(s.close);
  const legacy = await testAgent(s, drivenDeps(), { id: 'db1', name: 'legacy-host' });
  const named = await testAgent(s, drivenDeps(), { id: other, name: 'db1' });
  agents.push(legacy, named);
  await waitFor(() => s.manager.state.agent('db1')?.online && s.manager.state.agent(other)?.online, 10_000, 'both connected (a known legacy id gets in)');

  const commands = () => readEvents(s.dataDir).filter((e) => e.event === 'command');
  for (const args of [['procs', 'db1'], ['revoke', 'db1'], ['accept', 'db1'], ['history', 'db1']]) {
    const r = await cli(s.dataDir, args);
    assert.is(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /AGENT_AMBIGUOUS/);
    assert.match(r.stderr, 'id of "legacy-host" (id db1)');
    assert.match(r.stderr, `name of "db1" (id ${other})`);
  }
  assert.is(commands().length, 0, 'no command went to either');
  assert.is(s.manager.state.agents().length, 2, 'nobody revoked');
  const viaApi = await get(s, '/api/agents/db1');
  assert.is(viaApi.status, 409);
  assert.is(viaApi.json.error.code, 'AGENT_AMBIGUOUS');
  // Saying which is exact, as the dashboard does.
  assert.is((await get(s, `/api/agents/${encodeURIComponent('id:db1')}`)).json.name, 'legacy-host');
  assert.is((await get(s, `/api/agents/${encodeURIComponent(`id:${other}`)}`)).json.name, 'db1');
  assert.is((await cli(s.dataDir, ['procs', 'name:db1'])).code, 0);
  assert.is((await cli(s.dataDir, ['procs', 'id:db1'])).code, 0);
  assert.equal(commands().map((e) => e.agent.id), [other, 'db1'], 'each reached the agent it named');
  // A job over many hosts asks each chosen agent by its exact id: both answer, once each.
  const all = await cli(s.dataDir, ['procs', '--all', '--json']);
  assert.is(all.code, 0, all.stderr);
  assert.equal(commands().slice(2).map((e) => e.agent.id).sort(), [other, 'db1'].sort());
}));

test('a new agent whose id is not a UUID is refused with BAD_AGENT_ID; with a UUID it enrolls', timed(20_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const key = await testIdentity();
  const r = await enroll(s.tcpPort, key, '127.0.0.1', 'my-old-style-id', 'newbie');
  assert.is(await answer(r), 'BAD_AGENT_ID');
  await waitFor(() => r.closed, 5000, 'closed');
  await waitFor(() => readEvents(s.dataDir).some((e) => e.event === 'refused' && e.code === 'BAD_AGENT_ID' && e.agent?.id === 'my-old-style-id'), 3000, 'refusal recorded');
  assert.is(s.manager.state.agents(true).length, 0, 'nothing enrolled');
  // Upper case is another spelling of a UUID, not the one an agent draws.
  assert.is(await answer(await enroll(s.tcpPort, key, '127.0.0.1', randomUUID().toUpperCase(), 'newbie')), 'BAD_AGENT_ID');
  const ok = await enroll(s.tcpPort, key, '127.0.0.1', randomUUID(), 'newbie');
  assert.is(await answer(ok), 'welcome:accepted');
  ok.socket.destroy();
}));

test.run();
