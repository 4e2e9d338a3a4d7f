// The upgrade key pin: the first welcome's key is pinned when none is; another one never replaces
// it; the host's --upgrade-key does; a broken pin file fails closed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UpgradeKeyPin, UPGRADE_KEY_PIN_FILE, readUpgradeKeyFlag } from '../../common/agent/upgrade-key-pin.ts';
import { publicKeyBase64 } from '../../common/security/upgrade-sign.ts';
import { cleanTempDirs, codeOf, tempDir } from '../harness.helper.ts';

const test = suite('agent/upgrade-key-pin');
test.after.each(() => cleanTempDirs());

const k1 = publicKeyBase64(generateKeyPairSync('ed25519').publicKey);
const k2 = publicKeyBase64(generateKeyPairSync('ed25519').publicKey);

test('first offer pinned and kept across restarts; another offer ignored', () => {
  const dir = tempDir();
  const pin = new UpgradeKeyPin({ stateDir: dir });
  assert.is(pin.key, undefined);
  assert.is(pin.offer(k1), 'pinned');
  assert.is(pin.offer(k2), 'ignored');
  assert.is(pin.offer(k1), 'same');
  const again = new UpgradeKeyPin({ stateDir: dir });
  assert.is(publicKeyBase64(again.key!), k1);
  assert.is(again.offer(k2), 'ignored');
  assert.is(readFileSync(join(dir, UPGRADE_KEY_PIN_FILE), 'utf8').trim(), k1);
});

test('--upgrade-key (base64 or a file) replaces the pin; a bad one is BAD_FLAG; a broken pin file STATE_CORRUPT', () => {
  const dir = tempDir();
  new UpgradeKeyPin({ stateDir: dir }).offer(k1);
  const pin = new UpgradeKeyPin({ stateDir: dir, given: readUpgradeKeyFlag(k2) });
  assert.is(publicKeyBase64(pin.key!), k2);
  assert.is(publicKeyBase64(new UpgradeKeyPin({ stateDir: dir }).key!), k2);
  const file = join(dir, 'k.pub');
  writeFileSync(file, k1 + '\n');
  assert.is(publicKeyBase64(readUpgradeKeyFlag(file)), k1);
  assert.is(codeOf(() => readUpgradeKeyFlag('nonsense')), 'BAD_FLAG');
  writeFileSync(join(dir, UPGRADE_KEY_PIN_FILE), 'garbage');
  assert.is(codeOf(() => new UpgradeKeyPin({ stateDir: dir })), 'STATE_CORRUPT');
});

test.run();
