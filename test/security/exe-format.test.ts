// What an executable is built for, from its header: the Node running this test (a real ELF), a PE
// header as the Windows builds have it, and a script (neither: left to the caller). A signature that
// contradicts the header is refused with UPGRADE_WRONG_PLATFORM when signing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkExeTarget, exeTarget, exeTargetOf } from '../../common/security/exe-format.ts';
import { createUpgradeKey, readSignature } from '../../common/security/upgrade-sign.ts';
import { upgradeKeyCmd } from '../../common/cli/upgrade-key.ts';
import { cleanTempDirs, codeOf, codeOfAsync, tempDir } from '../harness.helper.ts';

const test = suite('security/exe-format');
test.after.each(() => cleanTempDirs());

/** A PE file's first bytes as a linker writes them: "MZ", the PE header's offset at 0x3c, "PE\0\0", Machine. */
function pe(machine: number): Buffer {
  const b = Buffer.alloc(1024);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(machine, 0x84);
  return b;
}

test('the Node running this is read as the ELF it is; PE machines; a script is neither', () => {
  assert.equal(exeTarget(process.execPath), { platform: 'linux', arch: process.arch });
  assert.equal(exeTargetOf(pe(0x8664)), { platform: 'win32', arch: 'x64' });
  assert.equal(exeTargetOf(pe(0xaa64)), { platform: 'win32', arch: 'arm64' });
  assert.equal(exeTargetOf(pe(0x1234)), { platform: 'win32', arch: 'machine 0x1234' });
  assert.is(exeTargetOf(Buffer.from('#!/usr/bin/env node\nconsole.log(1)\n')), undefined);
  assert.is(exeTargetOf(Buffer.from('MZ')), undefined, 'too short to hold a PE header');
  assert.is(codeOf(() => exeTarget(join(tempDir(), 'none'))), 'FILE_NOT_FOUND');
});

test('checkExeTarget: a header that contradicts the claim is UPGRADE_WRONG_PLATFORM; a script passes', () => {
  const dir = tempDir();
  const win = join(dir, 'agent-linux-x64'); // named for Linux, a Windows executable inside
  writeFileSync(win, pe(0x8664));
  assert.is(codeOf(() => checkExeTarget(win, { platform: 'linux', arch: 'x64' })), 'UPGRADE_WRONG_PLATFORM');
  checkExeTarget(win, { platform: 'win32', arch: 'x64' });
  assert.is(codeOf(() => checkExeTarget(process.execPath, { platform: 'linux', arch: process.arch === 'x64' ? 'arm64' : 'x64' })), 'UPGRADE_WRONG_PLATFORM');
  const script = join(dir, 'agent.mjs');
  writeFileSync(script, 'console.log(1)\n');
  checkExeTarget(script, { platform: 'linux', arch: 'x64' });
});

test('upgrade-key sign takes the platform from the header, and refuses a --platform the file contradicts (no .sig written)', async () => {
  const dir = tempDir();
  createUpgradeKey(dir);
  const win = join(dir, 'agent-win-x64.exe');
  writeFileSync(win, pe(0x8664));
  let out = '';
  await upgradeKeyCmd(dir, 'sign', win, { agentVersion: '0.2.0' }, (s) => { out += s; });
  assert.match(out, /^wrote .*agent-win-x64\.exe\.sig: win32-x64 version 0\.2\.0/);
  assert.is(readSignature(win).manifest.platform, 'win32');
  const lying = join(dir, 'agent-linux-x64');
  copyFileSync(win, lying);
  assert.is(await codeOfAsync(upgradeKeyCmd(dir, 'sign', lying, { platform: 'linux', arch: 'x64', agentVersion: '0.2.0' }, () => {})), 'UPGRADE_WRONG_PLATFORM');
  assert.not.ok(existsSync(`${lying}.sig`));
  // Not this host's platform and no --agent-version: it cannot be asked, said as such.
  assert.is(await codeOfAsync(upgradeKeyCmd(dir, 'sign', lying, {}, () => {})), 'BAD_ARGS');
});

test.run();
