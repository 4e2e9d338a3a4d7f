// The upgrade public key the manager offers in its welcome (an agent with none pins it): read from
// <data-dir>/upgrade-key.pub.pem, looked for again at most every 10 s while there is none, so a key
// made with `manager upgrade-key create` while the manager runs is offered without a restart.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePublicKey, publicKeyBase64, UPGRADE_PUB_FILE } from '../security/upgrade-sign.ts';

export function upgradeKeyOffer(dataDir: string, now: () => number = Date.now): () => string | undefined {
  let key: string | undefined;
  let lookedAt = -Infinity;
  return () => {
    if (key !== undefined || now() - lookedAt < 10_000) return key;
    lookedAt = now();
    try {
      key = publicKeyBase64(parsePublicKey(readFileSync(join(dataDir, UPGRADE_PUB_FILE), 'utf8')));
    } catch {
      key = undefined; // none (yet), or unreadable: nothing offered
    }
    return key;
  };
}
