// --files-root: inside means the root itself or below it, never a sibling sharing a prefix; on
// Windows, without regard to case or slash direction.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { insideRoots, rootCheck } from '../../common/agent/files-root.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

const test = suite('agent/files-root');
test.after(() => cleanTempDirs());

test('POSIX: the root and below pass; a sibling with the same prefix, the parent, another case do not', () => {
  const check = rootCheck(['/srv/share'], 'linux');
  for (const ok of ['/srv/share', '/srv/share/a.txt', '/srv/share/sub/b']) check(ok);
  for (const bad of ['/srv/shared/x', '/srv', '/srv/Share/a.txt', '/etc/passwd']) assert.is(codeOf(() => check(bad)), 'OUTSIDE_FILES_ROOT', bad);
  rootCheck(['/'], 'linux')('/anything/at/all');
});

test('Windows: case-insensitive, either slash, drive roots', () => {
  const check = rootCheck(['C:\\Share'], 'win32');
  for (const ok of ['c:\\share\\x.txt', 'C:\\SHARE', 'c:/share/sub/y']) check(ok);
  for (const bad of ['C:\\Shared\\x', 'D:\\Share\\x', 'C:\\']) assert.is(codeOf(() => check(bad)), 'OUTSIDE_FILES_ROOT', bad);
  rootCheck(['C:\\'], 'win32')('c:\\windows\\system.ini');
  assert.is(codeOf(() => rootCheck(['C:\\'], 'win32')('D:\\x')), 'OUTSIDE_FILES_ROOT');
});

test('insideRoots resolves the roots once; a missing root is BAD_FLAG', () => {
  const base = tempDir();
  mkdirSync(join(base, 'r'));
  insideRoots([join(base, 'r', '..', 'r')])(join(base, 'r', 'f'));
  assert.is(codeOf(() => insideRoots([join(base, 'missing')])), 'BAD_FLAG');
});

test.run();
