// The upgrade key this agent trusts, pinned like the manager's certificate: given on the host
// (`--upgrade-key <file|base64>`, at install or any start) or else taken from the first welcome
// that offers one while none is pinned. After that the manager cannot change it: only the host's
// operator can (the flag, or deleting the file). A pin file that exists but is broken fails closed.

import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { parsePublicKey, publicKeyBase64 } from '../security/upgrade-sign.ts';

export const UPGRADE_KEY_PIN_FILE = 'upgrade-key.pub';

/** `--upgrade-key`: a file holding the key (PEM or base64), or the base64 itself. */
export function readUpgradeKeyFlag(v: string): KeyObject {
  const text = existsSync(v) ? readFileSync(v, 'utf8') : v;
  try {
    return parsePublicKey(text);
  } catch (err) {
    throw new HwError('BAD_FLAG', `--upgrade-key ${v.slice(0, 80)}: ${(err as Error).message}`);
  }
}

export class UpgradeKeyPin {
  private readonly path: string | undefined;
  private pinned: KeyObject | undefined;

  /** `given`: the host's --upgrade-key, written to the pin (it wins over a pinned one). */
  constructor(o: { stateDir?: string; given?: KeyObject; log?: (line: string) => void }) {
    this.path = o.stateDir ? join(o.stateDir, UPGRADE_KEY_PIN_FILE) : undefined;
    const saved = this.path ? readState(this.path, (t) => parsePublicKey(t), 'fix it (one line: the base64 of `manager upgrade-key show`), or delete it to take the key from the next manager') : undefined;
    this.pinned = o.given ?? saved;
    if (o.given && this.path && (!saved || publicKeyBase64(saved) !== publicKeyBase64(o.given))) {
      writeDurable(this.path, publicKeyBase64(o.given) + '\n');
      o.log?.(`upgrade key ${publicKeyBase64(o.given)} pinned from --upgrade-key`);
    }
  }

  get key(): KeyObject | undefined {
    return this.pinned;
  }

  /**
   * A key offered by the manager's welcome: pinned when none is; otherwise ignored (a different
   * one is logged: it never replaces the pin). Returns what happened.
   */
  offer(base64: string): 'pinned' | 'same' | 'ignored' {
    let k: KeyObject;
    try {
      k = parsePublicKey(base64);
    } catch {
      return 'ignored';
    }
    if (this.pinned) return publicKeyBase64(this.pinned) === publicKeyBase64(k) ? 'same' : 'ignored';
    this.pinned = k;
    if (this.path) writeDurable(this.path, publicKeyBase64(k) + '\n');
    return 'pinned';
  }
}
