// The one-use install tokens: hashed on disk, refused with a code once expired or used by another
// agent, kept across a restart, revocable; and Admission letting an enrolled agent in again with
// its used token.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INSTALL_TOKENS_FILE, InstallTokens } from '../../common/manager/install-tokens.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

const make = (t: InstallTokens, now: number, ttlMs = 60_000) => t.create({ ttlMs, by: 'test', os: 'linux', arch: 'x64', labels: ['role=web'] }, now);

test.after(() => cleanTempDirs());

test('a token enrolls until it expires (ENROLL_TOKEN_EXPIRED after), and is never stored in clear', () => {
  const dir = tempDir('hw-it-');
  const t = new InstallTokens(dir);
  const { token, entry } = make(t, 1000);
  assert.not.match(readFileSync(join(dir, INSTALL_TOKENS_FILE), 'utf8'), token);
  assert.is(t.check(token, 'agent-a', 60_999)?.id, entry.id);
  assert.is(codeOf(() => t.check(token, 'agent-a', 61_000)), 'ENROLL_TOKEN_EXPIRED');
  assert.is(t.check('f'.repeat(64), 'agent-a', 2000), undefined, 'an unknown token is not one of these');
});

test('one use: the agent that used it may show it again, another gets ENROLL_TOKEN_USED; kept across a restart', () => {
  const dir = tempDir('hw-it-');
  const t = new InstallTokens(dir);
  const { token, entry } = make(t, 1000);
  t.use(t.check(token, 'agent-a', 2000)!, 'agent-a', 2000);
  const again = new InstallTokens(dir);
  assert.is(again.check(token, 'agent-a', 10 * 60_000)?.usedBy, 'agent-a', 'its own agent, even past the expiry');
  assert.is(codeOf(() => again.check(token, 'agent-b', 3000)), 'ENROLL_TOKEN_USED');
  assert.is(again.list(3000)[0]!.id, entry.id);
});

test('revoke: the token is forgotten (TOKEN_NOT_FOUND the second time)', () => {
  const t = new InstallTokens(tempDir('hw-it-'));
  const { token, entry } = make(t, 1000);
  t.revoke(entry.id);
  assert.is(t.check(token, 'agent-a', 2000), undefined);
  assert.is(codeOf(() => t.revoke(entry.id)), 'TOKEN_NOT_FOUND');
});

test('a corrupt file fails closed, naming it', () => {
  const dir = tempDir('hw-it-');
  writeFileSync(join(dir, INSTALL_TOKENS_FILE), '{"tokens": [{"id": 1}]}');
  assert.is(codeOf(() => new InstallTokens(dir)), 'STATE_CORRUPT');
});

test.run();
