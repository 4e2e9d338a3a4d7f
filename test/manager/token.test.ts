import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENROLL_TOKEN_FILE, loadOrCreateToken } from '../../common/manager/token.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

const test = suite('manager/token');
test.after(() => cleanTempDirs());

test('a new token is 64 hex digits (never starts with "-", so `--enroll-token <t>` is never read as flags), 0600, kept', () => {
  const dir = tempDir();
  for (let i = 0; i < 200; i++) {
    const t = loadOrCreateToken(dir, `t${i}`);
    assert.match(t, /^[0-9a-f]{64}$/);
  }
  const t = loadOrCreateToken(dir, ENROLL_TOKEN_FILE);
  assert.is(statSync(join(dir, ENROLL_TOKEN_FILE)).mode & 0o777, 0o600);
  assert.is(loadOrCreateToken(dir, ENROLL_TOKEN_FILE), t, 'read back, not replaced');
  assert.is(readFileSync(join(dir, ENROLL_TOKEN_FILE), 'utf8'), t + '\n');
});

test('a token from an older version (base64url) is kept as it is', () => {
  const dir = tempDir();
  const old = '-AbC_' + 'x'.repeat(40);
  writeFileSync(join(dir, 'api-token'), old + '\n', { mode: 0o600 });
  assert.is(loadOrCreateToken(dir), old);
});

test.run();
