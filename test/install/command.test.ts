// The install command's parts: the SPKI pin as openssl computes it, shell words that survive sh,
// the token never on a command line.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HwError } from '../../common/errors.ts';
import { installCommand, shWord, spkiPin, type CommandParts } from '../../common/install/command.ts';
import { installRequest } from '../../common/install/routes.ts';
import { loadOrCreateIdentity } from '../../common/security/tls-identity.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';

test.after(() => cleanTempDirs());

test('the pin is what openssl gives for the certificate\'s public key', async () => {
  const dir = tempDir('hw-cert-');
  const id = await loadOrCreateIdentity(dir, 'manager', 'pin-test');
  if (spawnSync('openssl', ['version']).status !== 0) return console.log('  (skipped: no openssl)');
  const pem = join(dir, 'cert.pem');
  writeFileSync(pem, id.cert);
  const r = spawnSync('sh', ['-c', `openssl x509 -in ${pem} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(spkiPin(readFileSync(pem, 'utf8')), `sha256//${r.stdout.trim()}`);
});

test('shell words come back from sh as they went in', () => {
  for (const w of ['role=web', "it's a b", 'a"b$c`d\\e', 'x;rm -rf /', '']) {
    const r = spawnSync('sh', ['-c', `printf %s ${shWord(w) || "''"}`], { encoding: 'utf8' });
    assert.is(r.stdout, w, w);
  }
});

test('the Linux command: the token only in a builtin printf, labels quoted', () => {
  const c = installCommand({
    os: 'linux', arch: 'x64', url: 'https://10.0.0.5:8443/dist/agent-linux-x64', sha256: 'ab'.repeat(32), pin: 'sha256//x=', thumbprint: 'T',
    manager: '10.0.0.5', managerFingerprint: 'CD'.repeat(32), token: 'ef'.repeat(32), labels: ['site=a b'],
  });
  assert.is(c.split('ef'.repeat(32)).length, 2, 'the token once');
  assert.match(c, `(umask 077; printf %s ${'ef'.repeat(32)} > "$d/token")`);
  assert.match(c, `--label 'site=a b' --enroll-token-file "$d/token"`);
  assert.not.match(c, '--allow-upgrade');
});

test('--allow-upgrade reaches agent install on both systems; the request refuses a non-boolean', () => {
  const parts: Omit<CommandParts, 'os'> = {
    arch: 'x64', url: 'https://10.0.0.5:8443/dist/agent', sha256: 'ab'.repeat(32), pin: 'sha256//x=', thumbprint: 'T',
    manager: '10.0.0.5', managerFingerprint: 'CD'.repeat(32), token: 'ef'.repeat(32), labels: [], allowUpgrade: true,
  };
  assert.match(installCommand({ ...parts, os: 'linux' }), '--allow-upgrade --enroll-token-file "$d/token"');
  assert.match(installCommand({ ...parts, os: 'windows' }), "'--allow-upgrade' --enroll-token-file $t");
  assert.is(installRequest({ allowUpgrade: true }).allowUpgrade, true);
  assert.is(installRequest({}).allowUpgrade, undefined);
  try {
    installRequest({ allowUpgrade: 'yes' });
    assert.unreachable('a string taken');
  } catch (err) {
    assert.is((err as HwError).code, 'BAD_ARGS');
  }
});

test.run();
