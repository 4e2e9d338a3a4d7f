import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { userCmd, type UserIo } from '../../common/cli/users.ts';
import { UserStore, verifyPassword } from '../../common/web/users.ts';
import { cleanTempDirs, tempDir, timed, codeOfAsync } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

function io(answers: string[] = [], stdin = ''): UserIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t), readStdin: async () => stdin, ...(answers.length ? { askSecret: async () => answers.shift()! } : {}) };
}

const code = codeOfAsync;

test('user add (asked twice on a terminal, or from stdin), list, passwd, remove', timed(30_000, async () => {
  const dir = tempDir();
  await userCmd(dir, 'add', 'alice', { role: 'admin' }, io(['password1', 'password1']));
  await userCmd(dir, 'add', 'bob', { role: 'viewer', passwordStdin: true }, io([], 'password2\nignored\n'));
  const l = io();
  await userCmd(dir, 'list', undefined, { json: true }, l);
  assert.equal(JSON.parse(l.lines[0]!).map((u: any) => [u.name, u.role]), [['alice', 'admin'], ['bob', 'viewer']]);
  assert.ok(await verifyPassword('password2', new UserStore(dir).get('bob')!.password));
  await userCmd(dir, 'passwd', 'bob', { passwordStdin: true }, io([], 'password3\n'));
  assert.ok(await verifyPassword('password3', new UserStore(dir).get('bob')!.password));
  await userCmd(dir, 'remove', 'bob', {}, io());
  assert.equal(new UserStore(dir).list().map((u) => u.name), ['alice']);
}));

test('user errors: differing passwords, no terminal, bad role, unknown user, no data folder', timed(30_000, async () => {
  const dir = tempDir();
  assert.is(await code(userCmd(dir, 'add', 'carol', { role: 'admin' }, io(['password1', 'password9']))), 'BAD_ARGS');
  assert.is(new UserStore(dir).list().length, 0, 'nothing added');
  assert.is(await code(userCmd(dir, 'add', 'carol', { role: 'admin' }, io())), 'BAD_ARGS');
  assert.is(await code(userCmd(dir, 'add', 'carol', { role: 'root', passwordStdin: true }, io([], 'password1\n'))), 'BAD_ARGS');
  assert.is(await code(userCmd(dir, 'add', 'carol', { role: 'admin', passwordStdin: true }, io([], '\n'))), 'BAD_ARGS');
  assert.is(await code(userCmd(dir, 'remove', 'nobody', {}, io())), 'USER_NOT_FOUND');
  assert.is(await code(userCmd(dir, 'frobnicate', 'x', {}, io())), 'BAD_ARGS');
  assert.is(await code(userCmd(join(dir, 'missing'), 'list', undefined, {}, io())), 'BAD_ARGS');
}));

test.run();
