// The control API's Unix socket in the data folder: made 0600, answering only with the token, used
// by the CLI's client for a fetch (sha256 checked end to end over it), with a fallback to TCP when
// it is missing or dead; a stale socket is replaced at start, a live one left alone.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpClient } from '../../common/cli/client.ts';
import { apiSocketPath, localSocketSupported, startLocalApi } from '../../common/serve/api-socket.ts';
import { PartFile } from '../../common/fs/part-file.ts';
import { codeOfAsync, tempDir, timed, waitFor } from '../harness.helper.ts';
import { cleanupAfterEach, drivenDeps, serveTest, testAgent } from './inproc.helper.ts';

const { agents, closers } = cleanupAfterEach(test);

const onLinux = process.platform === 'linux';

/** A socket file nobody listens on, as a manager killed with -9 leaves it (a close would remove it). */
async function deadSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** A GET over the socket; the status and the body. */
function getOver(socketPath: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the manager listens on <data-dir>/api.sock, mode 0600, token required; removed on close', timed(20_000, async () => {
  if (!onLinux) return console.log('  (skipped: Unix sockets tested on Linux)');
  const s = await serveTest();
  const path = apiSocketPath(s.dataDir);
  assert.is(s.apiSocket, path);
  const st = statSync(path);
  assert.ok(st.isSocket());
  assert.is(st.mode & 0o777, 0o600);
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  assert.is((await getOver(path, '/api/agents')).status, 401);
  const ok = await getOver(path, '/api/agents', token);
  assert.is(ok.status, 200);
  assert.equal(JSON.parse(ok.body), []);
  // No dashboard on the socket: a browser never comes this way.
  assert.is((await getOver(path, '/')).status, 404);
  assert.is((await getOver(path, '/', token)).status, 404);
  assert.is((await getOver(path, '/api/web/events', token)).status, 404);
  await s.close();
  assert.not.ok(existsSync(path));
}));

test('a fetch over the socket: the bytes and the sha256 match, and TCP was not used', timed(30_000, async () => {
  if (!onLinux) return console.log('  (skipped: Unix sockets tested on Linux)');
  const s = await serveTest();
  closers.push(s.close);
  const dir = tempDir('hw-sock-');
  const agent = await testAgent(s, drivenDeps(), { name: 'src', filesRoots: [dir] });
  agents.push(agent);
  await waitFor(() => s.manager.state.agents().find((a) => a.name === 'src' && a.online), 10_000, 'the agent online');
  const src = join(dir, 'src.bin');
  // Several chunks and a partial one, so frames arrive in many slices.
  const content = randomBytes(3 * 512 * 1024 + 12345);
  writeFileSync(src, content);
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  // Port 1 on loopback: nothing listens there; only the socket can answer.
  const c = new HttpClient({ host: '127.0.0.1', port: 1 }, token, { socketPath: apiSocketPath(s.dataDir) });
  const dest = join(dir, 'copy.bin');
  const r = await c.fetch('src', src, dest);
  const sha = createHash('sha256').update(content).digest('hex');
  assert.is(r.sha256, sha);
  assert.is(r.bytes, content.length);
  assert.ok(readFileSync(dest).equals(content));
  assert.equal(readdirSync(dir).sort(), ['copy.bin', 'src.bin']); // no .part left
  // A file that is not there: the coded error comes over the socket too, and no .part is left.
  assert.is(await codeOfAsync(c.fetch('src', join(dir, 'missing'), join(dir, 'x'))), 'FILE_NOT_FOUND');
  assert.equal(readdirSync(dir).sort(), ['copy.bin', 'src.bin']);
  // HTTP/1.0 has no trailers for the sha256: a clear 400, not a half-sent file (or a 500).
  const old = await rawRequest(s.apiPort, `GET /api/agents/src/fetch?path=${encodeURIComponent(src)} HTTP/1.0\r\nauthorization: Bearer ${token}\r\n\r\n`);
  assert.match(old, /^HTTP\/1\.1 400 /);
  assert.match(old, /"code":"BAD_ARGS".*needs HTTP\/1\.1/);
}));

/** Sends raw bytes to the TCP API and returns all it answers, up to its close. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(text));
    let got = '';
    sock.on('data', (d) => { got += d; });
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
  });
}

test('the client falls back to TCP when the socket is missing, or a dead one is there', timed(20_000, async () => {
  if (!onLinux) return console.log('  (skipped: Unix sockets tested on Linux)');
  const s = await serveTest();
  closers.push(s.close);
  const token = readFileSync(join(s.dataDir, 'api-token'), 'utf8').trim();
  const api = { host: '127.0.0.1', port: s.apiPort };
  const missing = new HttpClient(api, token, { socketPath: join(tempDir('hw-sock-'), 'api.sock') });
  assert.equal(await missing.agents(), []);
  // A socket file nobody listens on (a manager killed with -9 leaves one).
  const deadDir = tempDir('hw-sock-');
  const dead = join(deadDir, 'api.sock');
  await deadSocket(dead);
  assert.ok(statSync(dead).isSocket());
  const viaDead = new HttpClient(api, token, { socketPath: dead });
  assert.equal(await viaDead.agents(), []);
  // A regular file where the socket should be: ECONNREFUSED/ENOTSOCK, TCP again.
  const notSock = join(deadDir, 'plain');
  writeFileSync(notSock, 'x');
  assert.equal(await new HttpClient(api, token, { socketPath: notSock }).agents(), []);
  // Neither way answers: the usual API_UNREACHABLE, naming the TCP address.
  const nowhere = new HttpClient({ host: '127.0.0.1', port: 1 }, token, { socketPath: notSock });
  assert.is(await codeOfAsync(nowhere.agents()), 'API_UNREACHABLE');
}));

test('at start a stale socket is replaced; one a live manager answers on is left alone', timed(30_000, async () => {
  if (!onLinux) return console.log('  (skipped: Unix sockets tested on Linux)');
  const first = await serveTest();
  closers.push(first.close);
  const path = apiSocketPath(first.dataDir);
  const inode = statSync(path).ino;
  // A second manager on the same data folder finds the first answering: it has no socket.
  const second = await startLocalApi({ manager: first.manager, config: first.config, token: 'other-token' }, first.dataDir);
  assert.is(second.server, undefined);
  assert.match(second.skipped ?? '', /another manager answers/);
  assert.is(statSync(path).ino, inode);
  second.close();
  assert.ok(existsSync(path), 'the live manager keeps its socket');
  // A stale one (nothing answers): replaced.
  const staleDir = tempDir('hw-sock-');
  const stale = apiSocketPath(staleDir);
  await deadSocket(stale);
  assert.ok(statSync(stale).isSocket());
  const fresh = await startLocalApi({ manager: first.manager, config: first.config, token: 'tok' }, staleDir);
  assert.ok(fresh.server);
  assert.is(statSync(stale).mode & 0o777, 0o600);
  fresh.close();
  assert.not.ok(existsSync(stale));
  // Something else at that path is never removed.
  const otherDir = tempDir('hw-sock-');
  writeFileSync(apiSocketPath(otherDir), 'not a socket');
  const refused = await startLocalApi({ manager: first.manager, config: first.config, token: 'tok' }, otherDir);
  assert.is(refused.server, undefined);
  assert.is(readFileSync(apiSocketPath(otherDir), 'utf8'), 'not a socket');
}));

test('no socket on Windows or for a path too long for one', () => {
  assert.not.ok(localSocketSupported('/tmp/x/api.sock', 'win32'));
  assert.ok(localSocketSupported('/tmp/x/api.sock', 'linux'));
  assert.not.ok(localSocketSupported(`/${'d'.repeat(120)}/api.sock`, 'linux'));
});

test('a synchronous part file: a wrong sha256 is FILE_CORRUPT and leaves nothing behind', timed(10_000, async () => {
  const dir = tempDir('hw-part-');
  const part = new PartFile(join(dir, 'out.bin'), { sync: true });
  part.writeNow([Buffer.from('abc'), Buffer.from('def')]);
  await part.write(Buffer.from('ghi'));
  assert.is(part.bytes, 9);
  assert.is(await codeOfAsync(part.commit('0'.repeat(64))), 'FILE_CORRUPT');
  part.discard();
  assert.equal(readdirSync(dir), []);
  const good = new PartFile(join(dir, 'out.bin'), { sync: true });
  good.writeNow(Buffer.from('abcdefghi'));
  assert.is(await good.commit(createHash('sha256').update('abcdefghi').digest('hex')), createHash('sha256').update('abcdefghi').digest('hex'));
  assert.is(readFileSync(join(dir, 'out.bin'), 'utf8'), 'abcdefghi');
  assert.equal(readdirSync(dir), ['out.bin']);
}));

test.run();
