// Attacks on a live manager and a live agent, each with its exact outcome: error code, event
// logged, state unchanged. Sources are spread over 127.0.0.0/8 where the per-address rate limit
// would otherwise be what is tested.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as tlsServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOrCreateIdentity, type TlsIdentity } from '../../common/security/tls-identity.ts';
import { seal, split, verify } from '../../common/security/udp-mac.ts';
import { encodeJson, FrameDecoder, KIND_JSON } from '../../common/wire/frame.ts';
import { tempDir, timed, waitFor } from '../harness.helper.ts';
import { cli, startAgent, startManager, waitOnline } from './procs.helper.ts';
import { drivenDeps, serveTest, testAgent, testIdentity, cleanupAfterEach, readEvents } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

const events = readEvents;

/** A TLS client to the manager from `source`, with `id` as client certificate. */
function tlsTo(port: number, id: TlsIdentity, source = '127.0.0.1'): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // localAddress works for TLS as for TCP; @types/node 20 just does not list it.
    const opts = { host: '127.0.0.1', port, key: id.key, cert: id.cert, rejectUnauthorized: false, localAddress: source };
    // Resumed: a paused socket with unread data never reports the other side's close.
    const s = tlsConnect(opts as ConnectionOptions, () => resolve(s.resume()));
    s.once('error', reject);
  });
}

function hello(id: string, name: string, extra: Record<string, unknown> = {}): Buffer {
  return encodeJson({ type: 'hello', v: 1, id, name, hostname: name, platform: 'linux', arch: 'x64', version: 'fuzz', interval: 5, restartAllowed: false, filesEnabled: false, ...extra });
}

function closed(s: Socket, ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

// ---- a deterministic fuzzer ----------------------------------------------------------------------

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const SEEDS = [
  { type: 'report', at: 1, metrics: { cpuPercent: 1, memPercent: 2 } },
  { type: 'ping', at: 5 },
  { type: 'res', id: 7, ok: false, error: { code: 'X', message: 'y' } },
  { type: 'file-end', id: 3, bytes: 1, sha256: 'a'.repeat(64) },
  { type: 'req', id: 9, cmd: 'procs', args: {} },
  { type: 'credit', id: 2, bytes: 10 },
  { type: 'bye', reason: 'z' },
];

/** A JSON frame whose content is random or a mutation of a real message; the header is valid. */
function fuzzJsonFrame(r: () => number): Buffer {
  const pick = r();
  let body: Buffer;
  if (pick < 0.3) {
    body = randomBytes(1 + Math.floor(r() * 200)); // garbage bytes
  } else {
    const base = JSON.parse(JSON.stringify(SEEDS[Math.floor(r() * SEEDS.length)]));
    const keys = Object.keys(base);
    const k = keys[Math.floor(r() * keys.length)]!;
    const vals: unknown[] = [null, -1, 1e308, 'x'.repeat(Math.floor(r() * 5000)), [], {}, true, '__proto__', { constructor: 1 }, 2 ** 53];
    if (pick < 0.6) base[k] = vals[Math.floor(r() * vals.length)];
    else if (pick < 0.7) base.type = ['hello', 'alert', 'nope', '', 'welcome'][Math.floor(r() * 5)];
    else if (pick < 0.8) delete base[k];
    let text = JSON.stringify(base);
    if (pick >= 0.8) {
      const b = Buffer.from(text);
      for (let i = 0; i < 3; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      text = b.toString('latin1');
    }
    body = Buffer.from(text);
  }
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 0);
  head[4] = KIND_JSON;
  return Buffer.concat([head, body]);
}

/** A frame with a broken header: oversized, zero, "negative" length, or an unknown kind. */
function badHeaderFrame(r: () => number): Buffer {
  const h = Buffer.alloc(5);
  const v = [0xffffffff, 0x80000000, 1024 * 1024 + 1, 0][Math.floor(r() * 4)]!;
  h.writeUInt32BE(v, 0);
  h[4] = r() < 0.5 ? KIND_JSON : 7;
  return h;
}

function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

test('fuzz: 100,000 random and mutated frames at a live manager; it still answers, memory flat', timed(180_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const id = await testIdentity();
  // A real agent to ask afterwards.
  const witness = await testAgent(s, drivenDeps(), { name: 'witness' });
  agents.push(witness);
  await waitFor(() => witness.connected, 5000, 'witness connected');
  const r = rng(42);
  const total = 100_000;
  let sent = 0;
  let conns = 0;
  const rssStart = rssOf(process.pid);
  const deadline = Date.now() + 150_000;
  while (sent < total && Date.now() < deadline) {
    const src = `127.40.${Math.floor(conns / 250) % 250}.${(conns % 250) + 1}`;
    conns++;
    const sock = await tlsTo(s.tcpPort, id, src);
    sock.on('error', () => {});
    sock.write(hello(randomUUID(), `fuzzer-${conns}`));
    // Thousands of bad messages from an accepted agent are logged and dropped; then a bad header
    // ends the connection, as it must (the stream can no longer be followed).
    const batch: Buffer[] = [];
    for (let i = 0; i < 2000 && sent < total; i++, sent++) batch.push(fuzzJsonFrame(r));
    batch.push(badHeaderFrame(r));
    sent++;
    sock.write(Buffer.concat(batch));
    assert.ok(await closed(sock, 10_000), `a bad header closes the connection (connection ${conns}, ${sent} frames sent)`);
  }
  assert.ok(sent >= total, `sent ${sent} frames over ${conns} connections`);
  // Still answering: the API, and a command to a real agent through it.
  const procs = await cli(s.dataDir, ['procs', 'witness', '--json']);
  assert.is(procs.code, 0, procs.stderr);
  assert.is(JSON.parse(procs.stdout).processCount, 4);
  const codes = new Set(events(s.dataDir).filter((e) => e.event === 'protocol-error').map((e) => e.code));
  for (const c of ['BAD_JSON', 'BAD_MESSAGE', 'UNKNOWN_TYPE']) assert.ok(codes.has(c), `${c} logged`);
  assert.ok([...codes].some((c) => /^FRAME_/.test(c)), 'bad headers logged');
  (globalThis as { gc?: () => void }).gc?.();
  const grown = rssOf(process.pid) - rssStart;
  assert.ok(grown < 150 * 1024 * 1024, `memory grew ${Math.round(grown / 1048576)} MiB`);
}));

test('fuzz: 100,000 random and mutated frames at a live agent from its manager; it still answers', timed(120_000, async () => {
  // A fake manager that the agent pins at first contact, then floods.
  const mid = await loadOrCreateIdentity(tempDir('hw-fake-'), 'manager', 'fake');
  const r = rng(7);
  const total = 100_000;
  let sent = 0;
  let answered = 0;
  const server = tlsServer({ key: mid.key, cert: mid.cert, requestCert: true, rejectUnauthorized: false }, (sock) => {
    sock.on('error', () => {});
    const dec = new FrameDecoder();
    let welcomed = false;
    sock.on('data', (d: Buffer) => {
      for (const f of dec.push(d)) {
        if (f.kind !== KIND_JSON) continue;
        const m = JSON.parse(f.body.toString());
        if (m.type === 'hello' && !welcomed) {
          welcomed = true;
          sock.write(encodeJson({ type: 'welcome', v: 1, agentId: m.id, heartbeatMs: 10_000, status: 'accepted', udpKey: randomBytes(32).toString('base64') }));
          const batch: Buffer[] = [];
          for (let i = 0; i < 5000 && sent < total; i++, sent++) batch.push(fuzzJsonFrame(r));
          // then a valid command, which must be answered
          batch.push(encodeJson({ type: 'req', id: 424242, cmd: 'procs', args: {} }));
          sock.write(Buffer.concat(batch));
        }
        if (m.type === 'res' && m.id === 424242 && m.ok) {
          answered++;
          if (sent < total) sock.destroy(); // next round on a new connection
        }
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  closers.push(() => void server.close());
  const port = (server.address() as { port: number }).port;
  const rssStart = rssOf(process.pid);
  const agent = await testAgent({ tcpPort: port, udpPort: 9 }, drivenDeps(), { name: 'fuzzed' });
  agents.push(agent);
  await waitFor(() => sent >= total && answered >= Math.ceil(total / 5000), 100_000, `agent kept answering (${answered} rounds)`);
  assert.ok(agent.connected, 'still connected after the last round');
  (globalThis as { gc?: () => void }).gc?.();
  const grown = rssOf(process.pid) - rssStart;
  assert.ok(grown < 150 * 1024 * 1024, `memory grew ${Math.round(grown / 1048576)} MiB`);
}));

test('a handshake that never finishes is closed after the timeout, and logged', timed(20_000, async () => {
  const s = await serveTest({ tuning: { handshakeTimeoutMs: 300 } });
  closers.push(s.close);
  const raw = netConnect(s.tcpPort, '127.0.0.1');
  raw.on('error', () => {});
  assert.ok(await closed(raw, 5000), 'closed by the manager');
  await waitFor(() => events(s.dataDir).some((e) => e.event === 'protocol-error' && e.code === 'HANDSHAKE_TIMEOUT'), 3000, 'logged');
  // TLS done but no hello: the same.
  const t = await tlsTo(s.tcpPort, await testIdentity(), '127.0.0.2');
  t.on('error', () => {});
  assert.ok(await closed(t, 5000), 'TLS without hello closed too');
}));

test('a thousand connections left idle: capped, all closed in time, the manager answers throughout', timed(60_000, async () => {
  const s = await serveTest({ tuning: { handshakeTimeoutMs: 2000, maxHandshaking: 256 } });
  closers.push(s.close);
  const socks: Socket[] = [];
  for (let i = 0; i < 1000; i++) {
    const so = netConnect({ port: s.tcpPort, host: '127.0.0.1', localAddress: `127.50.${Math.floor(i / 250)}.${(i % 250) + 1}` });
    so.on('error', () => {});
    socks.push(so);
  }
  // Every connection made (or refused) before the API is asked: waited for, not a fixed 500 ms.
  await waitFor(() => socks.every((so) => !so.connecting), 20_000, 'the thousand connections made');
  const list = await cli(s.dataDir, ['agents', '--json']);
  assert.is(list.code, 0, 'API answers while 1000 connections hang');
  const results = await Promise.all(socks.map((so) => closed(so, 10_000)));
  assert.ok(results.every(Boolean), 'every idle connection was closed');
  const ev = events(s.dataDir);
  assert.ok(ev.some((e) => e.event === 'refused' && e.code === 'TOO_MANY_HANDSHAKES'), 'over the cap: refused and logged');
  assert.ok(ev.some((e) => e.event === 'protocol-error' && e.code === 'HANDSHAKE_TIMEOUT'), 'the rest timed out');
}));

test('oversized and negative lengths close the connection with the decoder\'s code', timed(20_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  for (const [len, i] of [[0xffffffff, 1], [1024 * 1024 + 1, 2], [0x80000000, 3]] as const) {
    const t = await tlsTo(s.tcpPort, await testIdentity(), `127.0.7.${i}`);
    t.on('error', () => {});
    const h = Buffer.alloc(5);
    h.writeUInt32BE(len, 0);
    h[4] = KIND_JSON;
    t.write(h);
    assert.ok(await closed(t), `length ${len} closed`);
  }
  await waitFor(() => events(s.dataDir).filter((e) => e.code === 'FRAME_TOO_LARGE').length >= 1, 3000, 'FRAME_TOO_LARGE logged');
  assert.is(s.manager.state.agents(true).length, 0, 'no agent appeared');
}));

test('forged, replayed and out-of-allowlist alert datagrams are dropped and counted, nothing else', timed(20_000, async () => {
  const s = await serveTest({ allow: ['127.0.0.1'] });
  closers.push(s.close);
  const agent = await testAgent(s, drivenDeps(), { name: 'udp-target' });
  agents.push(agent);
  await waitFor(() => agent.connected, 5000, 'connected');
  const before = s.manager.state.alerts().length;
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const body = Buffer.from(JSON.stringify({ type: 'alert', agentId: agent.id, seq: 500, alert: 'CPU_HIGH', value: 99, threshold: 80, at: Date.now() }));
  const send = (b: Buffer, from = sock) => new Promise<void>((r) => from.send(b, s.udpPort, '127.0.0.1', () => r()));
  await send(seal(randomBytes(32), body)); // a key we made up
  await send(Buffer.concat([body, createHash('sha256').update(body).digest()])); // a plain hash is no MAC
  await send(body); // no MAC at all
  const outsider = createSocket('udp4');
  await new Promise<void>((r) => outsider.bind(0, '127.0.0.9', () => r()));
  await send(seal(randomBytes(32), body), outsider);
  // Waited for until all four are counted (a fixed 300 ms could end before a loaded manager read them).
  const counted = () => Object.values(s.manager.droppedDatagrams()).reduce((a, b) => a + b, 0);
  await waitFor(() => counted() >= 4, 5000, 'the four datagrams counted');
  const d = s.manager.droppedDatagrams();
  assert.is(d['bad-mac'], 2, 'bad MACs counted');
  assert.is(d['malformed'], 1, 'no MAC counted as malformed');
  assert.is(d['not-allowed'], 1, 'outsider counted');
  assert.is(s.manager.state.alerts().length, before, 'no alert shown');
  // A genuine alert, then its datagram replayed: shown once, the replay counted.
  const genuine: Buffer[] = [];
  // Capture what the agent really sends (its datagram socket), to replay it.
  const socket = (agent as any).udp.socket;
  const origSend = socket.send.bind(socket);
  socket.send = (b: Buffer, ...rest: unknown[]) => {
    genuine.push(Buffer.from(b));
    return origSend(b, ...rest);
  };
  (agent as any).deps.cpu = 99;
  await waitFor(() => s.manager.state.alerts().length === before + 1 && genuine.length > 0, 5000, 'genuine alert');
  await waitFor(() => agent.pendingAlerts() === 0, 5000, 'acked');
  const replaysBefore = s.manager.droppedDatagrams()['replay'] ?? 0;
  // The replayer is answered, but only with an ack sealed with the agent's session key: of use to
  // nobody else (the agent takes acks only from the manager's address, sealed with that key).
  const answers: Buffer[] = [];
  sock.on('message', (b) => answers.push(b));
  for (let i = 0; i < 5; i++) await send(genuine[0]!);
  await waitFor(() => answers.length === 5, 5000, 'the replays answered');
  const key: Buffer = (agent as any).udp.key;
  for (const b of answers) {
    const parts = split(b)!;
    assert.ok(verify(key, parts.body, parts.mac), 'sealed with the session key');
    assert.is(JSON.parse(parts.body.toString()).type, 'ack');
  }
  assert.is(s.manager.state.alerts().length, before + 1, 'replays show nothing');
  assert.ok((s.manager.droppedDatagrams()['replay'] ?? 0) >= replaysBefore + 5, 'replays counted');
  sock.close();
  outsider.close();
}));

test('another key claiming an accepted agent\'s id or name is refused and logged; state unchanged', timed(20_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const realId = randomUUID();
  const real = await testAgent(s, drivenDeps(), { id: realId, name: 'db1' });
  agents.push(real);
  await waitFor(() => real.connected, 5000, 'real agent connected');
  const other = await loadOrCreateIdentity(tempDir('hw-impostor-'), 'agent', 'impostor');
  for (const [id, name, code] of [[realId, 'db1', 'IDENTITY_MISMATCH'], [randomUUID(), 'db1', 'NAME_TAKEN']] as const) {
    const t = await tlsTo(s.tcpPort, other);
    t.on('error', () => {});
    const dec = new FrameDecoder();
    const got: any[] = [];
    t.on('data', (d: Buffer) => dec.push(d).forEach((f) => f.kind === KIND_JSON && got.push(JSON.parse(f.body.toString()))));
    t.write(hello(id, name, { enrollToken: readFileSync(join(s.dataDir, 'enroll-token'), 'utf8').trim() }));
    assert.ok(await closed(t), 'closed');
    assert.ok(got.some((m) => m.type === 'bye' && m.reason.startsWith(code)), `told ${code}`);
    await waitFor(() => events(s.dataDir).some((e) => e.event === 'refused' && e.code === code), 3000, `${code} logged`);
  }
  const recs = s.manager.state.agents(true);
  assert.is(recs.length, 1, 'still one agent');
  assert.is(recs[0]!.fingerprint, (await testIdentity()).fingerprint, 'with its own key');
  assert.ok(real.connected, 'the real agent was not disturbed');
}));

test('a manager with a changed certificate is refused by the agent (MANAGER_CHANGED), nothing sent', timed(30_000, async () => {
  const s1 = await serveTest();
  const stateDir = tempDir('hw-agent-');
  const errors: string[] = [];
  const a1 = await testAgent(s1, drivenDeps(), { stateDir, name: 'pinned' });
  await waitFor(() => a1.connected, 5000, 'first contact pins');
  await a1.stop();
  const { tcpPort, udpPort } = s1;
  await s1.close();
  const s2 = await serveTest({ port: tcpPort, udpPort }); // another data folder: another key
  closers.push(s2.close);
  const a2 = await testAgent(s2, drivenDeps(), { stateDir, name: 'pinned' });
  agents.push(a2);
  a2.on('rejected', (e) => errors.push(e.code));
  await waitFor(() => errors.includes('MANAGER_CHANGED'), 5000, 'refused');
  await new Promise((r) => setTimeout(r, 500));
  assert.not.ok(a2.connected);
  assert.not.ok(events(s2.dataDir).some((e) => e.event === 'connect' || e.event === 'refused'), 'no hello ever reached the new manager');
}));

test('an agent process facing a changed manager key keeps running and retrying, and says why', timed(90_000, async () => {
  const m1 = await startManager();
  const agent = startAgent(m1, ['--name', 'stubborn']);
  await waitOnline(m1.dataDir, 'stubborn', undefined, agent, m1);
  await m1.kill();
  const m2 = await startManager(['--port', String(m1.tcpPort), '--udp-port', String(m1.udpPort)]); // new data folder, new key
  await waitFor(() => /refusing to talk to it/.test(agent.output()), 20_000, 'refusal logged');
  await new Promise((r) => setTimeout(r, 1000));
  assert.is(agent.child.exitCode, null, 'still running');
  assert.not.ok(events(m2.dataDir).some((e) => e.event === 'connect'), 'never said hello to the impostor');
  await m2.kill();
}));

test('pending agents get no commands and store nothing until accepted; revoked ones are refused', timed(30_000, async () => {
  const s = await serveTest({ autoAccept: false });
  closers.push(s.close);
  const stateDir = tempDir('hw-agent-');
  const a = await testAgent(s, drivenDeps(), { name: 'newcomer', stateDir, intervalS: 1 });
  agents.push(a);
  await waitFor(() => s.manager.state.pending().length === 1, 5000, 'pending');
  const pend = JSON.parse((await cli(s.dataDir, ['pending', '--json'])).stdout);
  assert.is(pend[0].name, 'newcomer');
  assert.is(pend[0].fingerprint, (await testIdentity()).fingerprint);
  const listed = JSON.parse((await cli(s.dataDir, ['agents', '--json'])).stdout);
  assert.is(listed.length, 0, 'not among the agents');
  const refused = await cli(s.dataDir, ['procs', pend[0].id]);
  assert.is(refused.code, 3, 'unknown to commands while pending');
  await new Promise((r) => setTimeout(r, 500));
  assert.is(s.manager.history.counters.samples, 0, 'reports not stored');
  const acc = await cli(s.dataDir, ['accept', 'newcomer']);
  assert.is(acc.code, 0, acc.stderr);
  await waitFor(() => s.manager.state.agents().find((x) => x.name === 'newcomer')?.metrics, 5000, 'reporting once accepted');
  assert.is((await cli(s.dataDir, ['procs', 'newcomer'])).code, 0);
  const rev = await cli(s.dataDir, ['revoke', 'newcomer']);
  assert.is(rev.code, 0, rev.stderr);
  await waitFor(() => events(s.dataDir).some((e) => e.event === 'refused' && e.code === 'REVOKED'), 10_000, 'reconnect refused as REVOKED');
  assert.is(s.manager.state.agents(true).length, 0, 'forgotten');
}));

test('--files-root: .. and symlinks cannot lead out, and outside is answered as missing; --no-files refuses everything', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const base = tempDir('hw-files-');
  const root = join(base, 'shared');
  mkdirSync(root);
  writeFileSync(join(root, 'ok.txt'), 'fine');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  symlinkSync(join(base, 'secret.txt'), join(root, 'link-out'));
  symlinkSync(base, join(root, 'dir-out'));
  const a = await testAgent(s, drivenDeps(), { name: 'files', filesRoots: [root] });
  agents.push(a);
  await waitFor(() => a.connected, 5000, 'connected');
  const out = tempDir('hw-out-');
  const ok = await cli(s.dataDir, ['fetch', 'files', join(root, 'ok.txt'), join(out, 'ok.txt')]);
  assert.is(ok.code, 0, ok.stderr);
  // Outside the root, existing or not, readable or not, gets what a missing file inside gets: the
  // same code and the same words (the path aside), so nothing is learnt of what exists elsewhere.
  const answer = async (p: string) => {
    const r = await cli(s.dataDir, ['fetch', 'files', p, join(out, 'x')]);
    assert.is(r.code, 1, p);
    return r.stderr.split(p).join('<path>');
  };
  const missing = await answer(join(root, 'no-such.txt'));
  assert.match(missing, /FILE_NOT_FOUND/);
  const outside = [join(root, '..', 'secret.txt'), join(root, 'link-out'), join(root, 'dir-out', 'secret.txt'), '/etc/passwd', '/etc/no-such-file', '/root/.ssh/id_rsa', join(base, 'no-such-dir', 'x')];
  for (const p of outside) assert.is(await answer(p), missing, p);
  const none = await testAgent(s, drivenDeps(), { name: 'nofiles', noFiles: true });
  agents.push(none);
  await waitFor(() => none.connected, 5000, 'connected');
  const r = await cli(s.dataDir, ['fetch', 'nofiles', join(root, 'ok.txt'), join(out, 'y')]);
  assert.match(r.stderr, /FILES_DISABLED/);
  const recorded = events(s.dataDir).filter((e) => e.event === 'command' && e.cmd === 'fetch' && e.agent?.name === 'files' && e.ok === false);
  assert.equal(recorded.map((e) => e.error?.code), Array(outside.length + 1).fill('FILE_NOT_FOUND'), 'refusals in the record, as missing files');
}));

test('an agent started without --files-root refuses every fetch: FILES_DISABLED with the flag that enables it', timed(30_000, async () => {
  const s = await serveTest();
  closers.push(s.close);
  const a = await testAgent(s, drivenDeps(), { name: 'default' });
  agents.push(a);
  await waitFor(() => a.connected, 5000, 'connected');
  await waitFor(() => s.manager.state.agents().some((x) => x.name === 'default' && x.online), 5000, 'online');
  assert.is(s.manager.state.agents().find((x) => x.name === 'default')!.filesEnabled, false, 'its hello says so');
  const out = tempDir('hw-out-');
  for (const p of ['/etc/hostname', '/no/such/file', join(out, '..')]) {
    const r = await cli(s.dataDir, ['fetch', 'default', p, join(out, 'x')]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /FILES_DISABLED/);
    assert.match(r.stderr, 'agent --files-root <dir>');
  }
  assert.equal(readdirSync(out), [], 'nothing written');
}));

test.run();
