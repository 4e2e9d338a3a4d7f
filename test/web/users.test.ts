import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HwError } from '../../common/errors.ts';
import { hashPassword, UserStore, verifyPassword } from '../../common/web/users.ts';
import { cleanTempDirs, tempDir, timed, codeOfAsync } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

const code = codeOfAsync;

test('scrypt: the right password verifies, a wrong one and a malformed hash do not', timed(20_000, async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$32768\$8\$1\$/);
  assert.ok(await verifyPassword('correct horse', h));
  assert.not.ok(await verifyPassword('correct hors', h));
  assert.not.ok(await verifyPassword('x', 'plain'));
  assert.not.ok(await verifyPassword('x', 'scrypt$99999999999$8$1$AA$AA'));
}));

test('users.json: add, list, passwd changes the stamp, remove; another store sees the changes', timed(20_000, async () => {
  const dir = tempDir();
  const a = new UserStore(dir);
  await a.add('alice', 'admin', 'password1');
  const b = new UserStore(dir);
  assert.equal(b.list().map((u) => [u.name, u.role]), [['alice', 'admin']]);
  assert.not.match(JSON.stringify(b.list()), /password1/);
  const stamp = b.get('alice')!.stamp;
  await a.passwd('alice', 'password2');
  b.reload();
  assert.is.not(b.get('alice')!.stamp, stamp);
  assert.ok(await verifyPassword('password2', b.get('alice')!.password));
  assert.is(await code(a.add('alice', 'viewer', 'password3')), 'USER_EXISTS');
  assert.is(await code(a.add('bob', 'viewer', 'short')), 'BAD_ARGS');
  assert.is(await code(a.add('<b>', 'viewer', 'long enough')), 'BAD_ARGS');
  assert.is(await code(a.add('console', 'viewer', 'long enough')), 'BAD_ARGS');
  a.remove('alice');
  b.reload();
  assert.is(b.get('alice'), undefined);
  assert.is(await code(Promise.resolve().then(() => a.remove('alice'))), 'USER_NOT_FOUND');
}));

test('a damaged users.json fails closed with its name', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'users.json'), '{"users": [');
  try {
    new UserStore(dir);
    assert.unreachable();
  } catch (err) {
    assert.is((err as HwError).code, 'STATE_CORRUPT');
    assert.match((err as Error).message, /users\.json/);
  }
});

test.run();
