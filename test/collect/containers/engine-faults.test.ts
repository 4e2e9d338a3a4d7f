// An engine that hangs, answers garbage or answers too much, on a fake unix socket: each costs a
// timeout and a coded error. A socket that is not there says which were tried and why.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerEngine } from '../../../common/collect/containers/engine.ts';
import { engineRequest } from '../../../common/collect/containers/engine-http.ts';
import { cleanTempDirs, codeOfAsync, tempDir, timed } from '../../harness.helper.ts';

const test = suite('collect/containers/engine-faults');
const servers: Server[] = [];
const sockets: Socket[] = [];
test.after.each(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});
test.after(() => cleanTempDirs());

async function listen(s: Server): Promise<string> {
  const path = join(tempDir('hw-engine-'), 'engine.sock');
  servers.push(s);
  s.on('connection', (c: Socket) => sockets.push(c));
  await new Promise<void>((r) => s.listen(path, r));
  return path;
}

/** An engine that answers /_ping, then `list` for everything else. */
function fakeEngine(list: (res: import('node:http').ServerResponse) => void) {
  return createHttpServer((req, res) => {
    if (req.url === '/_ping') return res.end('OK');
    list(res);
  });
}

test('an engine that accepts and never answers: ENGINE_TIMEOUT', timed(10_000, async () => {
  const path = await listen(createNetServer(() => {}));
  assert.is(await codeOfAsync(engineRequest({ socketPath: path, path: '/_ping', timeoutMs: 200, maxBytes: 1024 })), 'ENGINE_TIMEOUT');
  const e = new ContainerEngine({ env: { DOCKER_HOST: `unix://${path}` }, timeoutMs: 200 });
  assert.is(await codeOfAsync(e.list()), 'ENGINE_TIMEOUT');
}));

test('an engine that answers with something that is not HTTP: ENGINE_BAD_ANSWER', timed(10_000, async () => {
  const path = await listen(createNetServer((c) => c.end('\x00\x01 this is not http at all\r\n\r\n')));
  assert.is(await codeOfAsync(engineRequest({ socketPath: path, path: '/_ping', timeoutMs: 2000, maxBytes: 1024 })), 'ENGINE_BAD_ANSWER');
}));

test('an engine whose list is not JSON, not a list, or too big: ENGINE_BAD_ANSWER; one that stalls mid-body: ENGINE_TIMEOUT', timed(20_000, async () => {
  for (const [send, code] of [
    [(res: import('node:http').ServerResponse) => res.end('{"not json'), 'ENGINE_BAD_ANSWER'],
    [(res: import('node:http').ServerResponse) => res.end('{"a":1}'), 'ENGINE_BAD_ANSWER'],
    [(res: import('node:http').ServerResponse) => res.end('[1, 2]'), 'ENGINE_BAD_ANSWER'],
    [(res: import('node:http').ServerResponse) => { res.writeHead(200); res.write('[{"Id":"'); }, 'ENGINE_TIMEOUT'],
    [(res: import('node:http').ServerResponse) => { res.writeHead(500); res.end('{"message":"engine on fire"}'); }, 'ENGINE_ERROR'],
  ] as const) {
    const path = await listen(fakeEngine(send));
    const e = new ContainerEngine({ env: { DOCKER_HOST: `unix://${path}` }, timeoutMs: 300 });
    assert.is(await codeOfAsync(e.list()), code, String(send));
  }
  // An endless body is cut at the bound, not buffered.
  const path = await listen(fakeEngine((res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (res.write(chunk));
      res.once('drain', pump);
    };
    pump();
  }));
  const a = await engineRequest({ socketPath: path, path: '/x', timeoutMs: 5000, maxBytes: 1024 * 1024 });
  assert.ok(a.cut && a.body.length === 1024 * 1024);
}));

test('no engine: ENGINE_UNREACHABLE names each socket tried and why', timed(10_000, async () => {
  const dir = tempDir('hw-noengine-');
  const e = new ContainerEngine({ env: { DOCKER_HOST: `unix://${dir}/docker.sock` } });
  try {
    await e.list();
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, 'ENGINE_UNREACHABLE');
    assert.match((err as Error).message, `${dir}/docker.sock (DOCKER_HOST): ENOENT`);
  }
  const d = new ContainerEngine({ env: { XDG_RUNTIME_DIR: dir } });
  const msg = await d.list().then(() => '', (err: Error) => err.message);
  for (const p of ['/var/run/docker.sock', '/run/podman/podman.sock', `${dir}/podman/podman.sock`]) assert.ok(msg.includes(p), msg);
}));

test.run();
