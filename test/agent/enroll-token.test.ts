// Where the agent finds the manager's enroll token: a file (preferred), the environment, the flag;
// a file that cannot be read or holds no token stops it with a coded one-line error.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveEnrollToken } from '../../common/agent/enroll-token.ts';
import { HwError } from '../../common/errors.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

const test = suite('agent/enroll-token');
test.after(() => cleanTempDirs());

const TOKEN = 'ab'.repeat(32);

function tokenFile(content: string, mode = 0o600): string {
  const p = join(tempDir(), 'enroll-token');
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}

test('the file\'s token, trimmed (the manager writes it with a newline); no warning at mode 0600', () => {
  const warned: string[] = [];
  assert.is(resolveEnrollToken({ file: tokenFile(`${TOKEN}\n`) }, (l) => warned.push(l)), TOKEN);
  assert.equal(warned, []);
});

test('a file other users may read is used, with a warning naming the fix', () => {
  const warned: string[] = [];
  const p = tokenFile(TOKEN, 0o644);
  assert.is(resolveEnrollToken({ file: p }, (l) => warned.push(l), 'linux'), TOKEN);
  assert.equal(warned, [`--enroll-token-file ${p} can be read by other users: chmod 600 ${p}`]);
});

test('file over environment over flag; none given: none', () => {
  const file = tokenFile(TOKEN);
  assert.is(resolveEnrollToken({ file, env: 'from-env' }), TOKEN);
  assert.is(resolveEnrollToken({ env: 'from-env', flag: 'from-flag' }), 'from-env');
  assert.is(resolveEnrollToken({ env: '', flag: 'from-flag' }), 'from-flag', 'an empty variable counts as unset');
  assert.is(resolveEnrollToken({ flag: 'from-flag' }), 'from-flag');
  assert.is(resolveEnrollToken({}), undefined);
  assert.is(codeOf(() => resolveEnrollToken({ file, flag: 'x' })), 'BAD_FLAG');
});

test('unreadable, missing, a folder, empty or not a token: BAD_ENROLL_TOKEN, one line naming the file', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'folder'));
  const cases: [string, RegExp][] = [
    [join(dir, 'missing'), /cannot read it \(no such file\).*chmod 600/],
    [join(dir, 'folder'), /cannot read it \(a folder, not a file\)/],
    [tokenFile(''), /is empty/],
    [tokenFile(' \n\n'), /is empty/],
    [tokenFile(`${TOKEN}\nsecond line`), /does not hold an enroll token/],
    [tokenFile('x'.repeat(300)), /does not hold an enroll token/],
  ];
  for (const [file, why] of cases) {
    let err: HwError | undefined;
    try {
      resolveEnrollToken({ file });
    } catch (e) {
      err = e as HwError;
    }
    assert.instance(err, HwError, file);
    assert.is(err!.code, 'BAD_ENROLL_TOKEN', file);
    assert.ok(err!.message.startsWith(`--enroll-token-file ${file}`), err!.message);
    assert.match(err!.message, why);
    assert.not.match(err!.message, /\n/);
  }
  assert.is(codeOf(() => resolveEnrollToken({ env: '  ' })), 'BAD_ENROLL_TOKEN');
  assert.is(codeOf(() => resolveEnrollToken({ flag: 'a b' })), 'BAD_ENROLL_TOKEN');
});

test.run();
