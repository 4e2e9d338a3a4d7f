// Streaming a file to the manager over a real loopback connection: coded errors before the first
// byte (missing, directory, device, FIFO, unreadable), the sha256 of what arrives, the credit window,
// cancel, and a file that changes size during the transfer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync, chmodSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FILE_CHUNK_BYTES } from '../../common/wire/constants.ts';
import { HwError } from '../../common/errors.ts';
import { FileSender, type FileSystem } from '../../common/agent/file-sender.ts';
import { insideRoots } from '../../common/agent/files-root.ts';
import {
  parseAgentMessage, parseManagerMessage, type AgentMessage, type ManagerMessage,
} from '../../common/wire/messages.ts';
import { Peer } from '../../common/wire/peer.ts';
import { cleanTempDirs, codeOfAsync, openFds, tempDir, timed, waitFor } from '../harness.helper.ts';
import { socketPair, type SocketPair } from '../wire/loopback.helper.ts';

const test = suite('agent/file-sender');

interface Rig {
  agent: Peer<ManagerMessage, AgentMessage>;
  manager: Peer<AgentMessage, ManagerMessage>;
  sender: FileSender;
  /** what the manager side received */
  messages: AgentMessage[];
  bytes: number;
  hash: ReturnType<typeof createHash>;
  /** grant credit for every chunk as it arrives */
  autoCredit: boolean;
}

const pairs: SocketPair[] = [];
test.after.each(async () => {
  for (const p of pairs.splice(0)) await p.close();
  cleanTempDirs();
});

async function rig(window?: number, sender?: FileSender): Promise<Rig> {
  const p = await socketPair();
  pairs.push(p);
  const r: Rig = {
    agent: new Peer<ManagerMessage, AgentMessage>(p.client, { parse: parseManagerMessage, pauseReads: false }), // as common/agent/connection.ts
    manager: new Peer<AgentMessage, ManagerMessage>(p.server, { parse: parseAgentMessage }),
    sender: sender ?? new FileSender(window),
    messages: [], bytes: 0, hash: createHash('sha256'), autoCredit: true,
  };
  r.manager.on('message', (m) => r.messages.push(m));
  r.manager.on('data', (id, parts, bytes) => {
    r.bytes += bytes;
    for (const d of parts) r.hash.update(d);
    if (r.autoCredit) r.manager.post({ type: 'credit', id, bytes });
  });
  r.agent.on('message', (m) => {
    if (m.type === 'credit') r.sender.credit(m.id, m.bytes);
    if (m.type === 'cancel') r.sender.cancel(m.id);
  });
  return r;
}

const codeOf = codeOfAsync;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a file arrives whole: size, real path, bytes and sha256 match', timed(10_000, async () => {
  const r = await rig(128 * 1024);
  const dir = tempDir();
  const content = randomBytes(5 * FILE_CHUNK_BYTES + 123); // several chunks and a partial one
  writeFileSync(join(dir, 'data.bin'), content);
  symlinkSync(join(dir, 'data.bin'), join(dir, 'link'));
  await r.sender.send(r.agent, 7, join(dir, 'link'));
  const end = await waitFor(() => r.messages.find((m) => m.type === 'file-end'), 5000, 'file-end');
  assert.equal(r.messages[0], { type: 'file', id: 7, size: content.length, path: realpathSync(join(dir, 'data.bin')) });
  assert.equal(end, { type: 'file-end', id: 7, bytes: content.length, sha256: sha(content) });
  assert.is(r.bytes, content.length);
  assert.is(r.hash.digest('hex'), sha(content));
}));

test('an empty file: a file message of size 0 and the empty sha256', timed(5000, async () => {
  const r = await rig();
  const path = join(tempDir(), 'empty');
  writeFileSync(path, '');
  await r.sender.send(r.agent, 1, path);
  const end = await waitFor(() => r.messages.find((m) => m.type === 'file-end'), 3000, 'file-end');
  assert.equal(end, { type: 'file-end', id: 1, bytes: 0, sha256: sha(Buffer.alloc(0)) });
  assert.is(r.bytes, 0);
}));

test('never more than the window in flight without credit; credit resumes it', timed(10_000, async () => {
  const window = 2 * FILE_CHUNK_BYTES;
  const r = await rig(window);
  r.autoCredit = false;
  const path = join(tempDir(), 'big');
  const content = randomBytes(10 * FILE_CHUNK_BYTES);
  writeFileSync(path, content);
  let finished = false;
  const sending = r.sender.send(r.agent, 3, path).then(() => { finished = true; });
  await waitFor(() => r.bytes >= window, 3000, 'the first window');
  await sleep(150); // give it every chance to overrun
  assert.is(r.bytes, window, `${r.bytes} bytes sent with a window of ${window}`);
  assert.not.ok(finished);
  r.autoCredit = true;
  r.manager.post({ type: 'credit', id: 3, bytes: window });
  await sending;
  await waitFor(() => r.messages.some((m) => m.type === 'file-end'), 3000, 'file-end');
  assert.is(r.bytes, content.length);
  assert.is(r.hash.digest('hex'), sha(content));
}));

test('cancel while waiting for credit ends the transfer without a file-end', timed(5000, async () => {
  const r = await rig(FILE_CHUNK_BYTES);
  r.autoCredit = false;
  const path = join(tempDir(), 'big');
  writeFileSync(path, randomBytes(4 * FILE_CHUNK_BYTES));
  const sending = r.sender.send(r.agent, 4, path);
  await waitFor(() => r.bytes >= FILE_CHUNK_BYTES, 3000, 'the first chunk');
  r.manager.post({ type: 'cancel', id: 4 });
  await sending; // resolves: the manager asked for it
  await sleep(50);
  assert.not.ok(r.messages.some((m) => m.type === 'file-end'));
  assert.is(r.bytes, FILE_CHUNK_BYTES);
}));

test('a file that grows or shrinks during the transfer is FILE_CHANGED', timed(10_000, async () => {
  for (const change of ['grow', 'shrink'] as const) {
    const r = await rig(FILE_CHUNK_BYTES);
    r.autoCredit = false;
    const path = join(tempDir(), `${change}.bin`);
    // Long enough that the chunk the sender reads ahead is not the last one.
    writeFileSync(path, randomBytes(8 * FILE_CHUNK_BYTES));
    const outcome = codeOf(r.sender.send(r.agent, 5, path));
    await waitFor(() => r.bytes >= FILE_CHUNK_BYTES, 3000, 'the first chunk');
    if (change === 'grow') appendFileSync(path, 'more');
    else truncateSync(path, FILE_CHUNK_BYTES + 10);
    r.autoCredit = true;
    r.manager.post({ type: 'credit', id: 5, bytes: FILE_CHUNK_BYTES });
    assert.is(await outcome, 'FILE_CHANGED', change);
    assert.not.ok(r.messages.some((m) => m.type === 'file-end'), change);
  }
}));

test('missing file: FILE_NOT_FOUND, nothing sent', timed(5000, async () => {
  const r = await rig();
  const dir = tempDir();
  writeFileSync(join(dir, 'plain'), 'x');
  symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
  for (const p of [join(dir, 'nope'), join(dir, 'dangling'), join(dir, 'plain', 'under-a-file')]) {
    assert.is(await codeOf(r.sender.send(r.agent, 1, p)), 'FILE_NOT_FOUND', p);
  }
  await sleep(20);
  assert.equal(r.messages, []);
}));

test('a directory, /dev/null and a FIFO are FILE_NOT_REGULAR, without hanging', timed(5000, async () => {
  const r = await rig();
  const dir = tempDir();
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(dir, 'sub'), join(dir, 'link-to-dir'));
  const targets = [dir, join(dir, 'sub'), join(dir, 'link-to-dir')];
  if (process.platform !== 'win32') {
    targets.push('/dev/null');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    targets.push(join(dir, 'fifo')); // opening it for reading would block until a writer came
  }
  for (const t of targets) assert.is(await codeOf(r.sender.send(r.agent, 1, t)), 'FILE_NOT_REGULAR', t);
  await sleep(20);
  assert.equal(r.messages, []);
}));

test('a file without read permission is FILE_UNREADABLE', timed(5000, async () => {
  if (process.platform === 'win32' || process.getuid?.() === 0) {
    console.log(`  (skipped FILE_UNREADABLE: ${process.platform === 'win32' ? 'no chmod on Windows' : 'running as root, which reads a mode-000 file anyway'})`);
    return;
  }
  const r = await rig();
  const path = join(tempDir(), 'secret');
  writeFileSync(path, 'x');
  chmodSync(path, 0o000);
  assert.is(await codeOf(r.sender.send(r.agent, 1, path)), 'FILE_UNREADABLE');
  assert.equal(r.messages, []);
}));

test('the check callback sees the real path and can refuse before anything is sent (answered as missing)', timed(5000, async () => {
  const r = await rig();
  const dir = tempDir();
  writeFileSync(join(dir, 'target'), 'x');
  symlinkSync(join(dir, 'target'), join(dir, 'link'));
  let seen = '';
  const refused = r.sender.send(r.agent, 1, join(dir, 'link'), (real) => {
    seen = real;
    throw new HwError('NOT_ALLOWED', 'outside the allowed folder');
  });
  assert.is(await codeOf(refused), 'FILE_NOT_FOUND');
  assert.is(seen, realpathSync(join(dir, 'target')));
  await sleep(20);
  assert.equal(r.messages, []);
}));

test('a closed connection makes send fail with DISCONNECTED', timed(5000, async () => {
  const r = await rig();
  const path = join(tempDir(), 'f');
  writeFileSync(path, 'hello');
  const closed = new Promise((res) => r.agent.once('close', res));
  r.agent.fail(new HwError('DISCONNECTED', 'test'));
  await closed;
  assert.is(await codeOf(r.sender.send(r.agent, 1, path)), 'DISCONNECTED');
}));

const haveProcFd = process.platform === 'linux';

/** Real file system calls, with `after` run between resolving the path and opening it. */
function racingFs(after: (real: string) => void): FileSystem {
  return {
    realpath: async (p) => {
      const r = await realpath(p);
      after(r);
      return r;
    },
    open: (p, f) => open(p, f),
  };
}

function filesTree() {
  const base = realpathSync(tempDir('hw-root-'));
  const root = join(base, 'shared');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'dir'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'inside.txt'), 'inside');
  writeFileSync(join(root, 'dir', 'file.txt'), 'inside too');
  writeFileSync(join(base, 'secret.txt'), 'SECRET');
  writeFileSync(join(outside, 'file.txt'), 'SECRET');
  return { base, root, outside, check: insideRoots([root]) };
}

test('outside --files-root is answered exactly as a missing file: same code, same message, nothing sent', timed(5000, async () => {
  const t = filesTree();
  const r = await rig();
  const answer = async (p: string) => {
    try {
      await r.sender.send(r.agent, 1, p, t.check);
    } catch (err) {
      return `${(err as HwError).code} ${(err as HwError).message.split(p).join('<path>')}`;
    }
    return 'sent';
  };
  const missing = await answer(join(t.root, 'no-such.txt'));
  assert.is(missing, 'FILE_NOT_FOUND <path>: no such file in the folders this agent shares');
  const locked = join(t.base, 'locked');
  mkdirSync(locked);
  writeFileSync(join(locked, 'x'), 'x');
  chmodSync(locked, 0); // unreadable to a user that is not root: EACCES, not ENOENT
  try {
    for (const p of [join(t.base, 'secret.txt'), join(t.root, '..', 'secret.txt'), join(t.base, 'no-such.txt'), join(t.outside, 'no', 'x'), join(locked, 'x'), t.outside, '/dev/zero']) {
      assert.is(await answer(p), missing, p);
    }
  } finally {
    chmodSync(locked, 0o700);
  }
  assert.equal(r.messages, []);
}));

test('a file swapped for a symlink out of --files-root after the check is refused (FILE_CHANGED), nothing sent', timed(5000, async () => {
  const t = filesTree();
  const target = join(t.root, 'inside.txt');
  const sender = new FileSender(undefined, {
    fs: racingFs(() => {
      rmSync(target);
      symlinkSync(join(t.base, 'secret.txt'), target);
    }),
  });
  const r = await rig(undefined, sender);
  assert.is(await codeOf(r.sender.send(r.agent, 1, target, t.check)), 'FILE_CHANGED');
  await sleep(20);
  assert.equal(r.messages, []);
  assert.is(r.bytes, 0);
}));

for (const platform of ['linux', 'darwin'] as const) {
  test(`a folder swapped for a symlink out of --files-root after the check is refused (FILE_NOT_FOUND, as outside is answered; ${platform === 'linux' ? '/proc/self/fd' : 'realpath + inode, as off Linux'})`, timed(5000, async () => {
    const t = filesTree();
    const sender = new FileSender(undefined, {
      platform,
      fs: racingFs(() => {
        renameSync(join(t.root, 'dir'), join(t.root, 'dir-before'));
        symlinkSync(t.outside, join(t.root, 'dir'));
      }),
    });
    const r = await rig(undefined, sender);
    assert.is(await codeOf(r.sender.send(r.agent, 1, join(t.root, 'dir', 'file.txt'), t.check)), 'FILE_NOT_FOUND');
    await sleep(20);
    assert.equal(r.messages, []);
    assert.is(r.bytes, 0);
    if (haveProcFd) assert.is(openFds(join(t.outside, 'file.txt')), 0, 'the opened file was closed');
  }));
}

test('off Linux, a file replaced after the open is caught by its inode (FILE_CHANGED)', timed(5000, async () => {
  const t = filesTree();
  const target = join(t.root, 'inside.txt');
  const sender = new FileSender(undefined, {
    platform: 'darwin',
    fs: {
      realpath: (p) => realpath(p),
      open: async (p, f) => {
        const fh = await open(p, f);
        renameSync(target, join(t.root, 'old.txt'));
        writeFileSync(target, 'another file');
        return fh;
      },
    },
  });
  const r = await rig(undefined, sender);
  assert.is(await codeOf(r.sender.send(r.agent, 1, target, t.check)), 'FILE_CHANGED');
  assert.equal(r.messages, []);
}));

test('fetches raced against a swapping folder never deliver a byte from outside --files-root', timed(20_000, async () => {
  const t = filesTree();
  const r = await rig();
  const path = join(t.root, 'dir', 'file.txt');
  let swapping = true;
  let flips = 0;
  const swapper = (async () => {
    // Swaps dir between the real folder and a link to the outside one, as fast as the loop turns.
    while (swapping) {
      renameSync(join(t.root, 'dir'), join(t.root, 'dir-real'));
      symlinkSync(t.outside, join(t.root, 'dir'));
      await new Promise((res) => setImmediate(res));
      rmSync(join(t.root, 'dir'));
      renameSync(join(t.root, 'dir-real'), join(t.root, 'dir'));
      flips++;
      await new Promise((res) => setImmediate(res));
    }
  })();
  const outcomes = new Map<string, number>();
  try {
    const deadline = Date.now() + 8000;
    for (let i = 1; i <= 300 && Date.now() < deadline; i++) {
      const before = r.bytes;
      let outcome = 'sent';
      try {
        await r.sender.send(r.agent, i, path, t.check);
      } catch (err) {
        outcome = (err as HwError).code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (outcome === 'sent') {
        const start = await waitFor(() => r.messages.find((m) => m.type === 'file' && m.id === i), 3000, `file ${i}`);
        // Inside the root (it may be named through dir-real if the swap came right after the open).
        assert.ok((start as { path: string }).path.startsWith(t.root + '/'), (start as { path: string }).path);
        await waitFor(() => r.bytes === before + 'inside too'.length, 3000, `bytes of ${i}`);
      }
    }
  } finally {
    swapping = false;
    await swapper;
  }
  const summary = JSON.stringify(Object.fromEntries(outcomes));
  console.log(`  (raced fetches: ${summary}, ${flips} swaps)`);
  for (const code of outcomes.keys()) assert.ok(['sent', 'FILE_CHANGED', 'FILE_NOT_FOUND'].includes(code), summary);
  assert.ok(flips > 10, `the folder was swapped ${flips} times`);
  assert.ok((outcomes.get('sent') ?? 0) > 0, summary);
}));

test('cancel while waiting for credit closes the file', timed(10_000, async () => {
  const r = await rig(FILE_CHUNK_BYTES);
  r.autoCredit = false;
  const path = join(realpathSync(tempDir()), 'big');
  writeFileSync(path, randomBytes(4 * FILE_CHUNK_BYTES));
  const sending = r.sender.send(r.agent, 4, path);
  await waitFor(() => r.bytes >= FILE_CHUNK_BYTES, 3000, 'the first chunk');
  if (haveProcFd) assert.is(openFds(path), 1, 'open while sending');
  assert.is(r.sender.active, 1);
  // Nothing but the cancel can close it (no credit ever comes): waited for, not timed; how long it
  // took is printed for the record (a loaded machine makes any bound race).
  const t0 = performance.now();
  r.manager.post({ type: 'cancel', id: 4 });
  await waitFor(() => r.sender.active === 0 && (!haveProcFd || openFds(path) === 0), 5000, 'the file closed', 2);
  console.log(`  (waiting for credit: closed ${(performance.now() - t0).toFixed(1)} ms after the cancel was sent)`);
  await sending;
}));

test('cancel while the manager does not read (the sender waits on a full socket) closes the file', timed(15_000, async () => {
  const r = await rig(1024 * 1024 * 1024); // credit is no limit: the socket is
  const path = join(realpathSync(tempDir()), 'big');
  writeFileSync(path, randomBytes(64 * FILE_CHUNK_BYTES)); // more than the socket buffers hold
  r.manager.stream.pause();
  const sending = r.sender.send(r.agent, 9, path);
  sending.catch(() => {});
  // Stuck on drain: the agent side has queued past its send buffer and nothing moves.
  await waitFor(() => r.agent.stream.writableLength > 1024 * 1024, 5000, 'the socket full');
  if (haveProcFd) assert.is(openFds(path), 1);
  const t0 = performance.now();
  r.manager.post({ type: 'cancel', id: 9 });
  await waitFor(() => r.sender.active === 0 && (!haveProcFd || openFds(path) === 0), 5000, 'the file closed', 2);
  console.log(`  (on a full socket: closed ${(performance.now() - t0).toFixed(1)} ms after the cancel was sent)`);
  await sending;
}));

test('a dropped connection while waiting for credit closes the file (DISCONNECTED)', timed(10_000, async () => {
  const r = await rig(FILE_CHUNK_BYTES);
  r.autoCredit = false;
  const path = join(realpathSync(tempDir()), 'big');
  writeFileSync(path, randomBytes(4 * FILE_CHUNK_BYTES));
  const outcome = codeOf(r.sender.send(r.agent, 5, path));
  await waitFor(() => r.bytes >= FILE_CHUNK_BYTES, 3000, 'the first chunk');
  const t0 = performance.now();
  r.manager.stream.destroy();
  await waitFor(() => r.sender.active === 0 && (!haveProcFd || openFds(path) === 0), 5000, 'the file closed', 2);
  console.log(`  (connection cut: closed ${(performance.now() - t0).toFixed(1)} ms after)`);
  assert.is(await outcome, 'DISCONNECTED');
}));

test.run();
