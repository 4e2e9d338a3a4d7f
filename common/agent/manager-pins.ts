// Which manager certificates the agent trusts: the fingerprints given with --manager-fingerprint,
// or else the one each manager address showed at first contact, kept in the state folder (trust
// on first use, like SSH's known_hosts).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { writeDurable } from '../fs/durable.ts';

export const PINS_FILE = 'manager-pins.json';

export class ManagerPins {
  private readonly expected: string[] | undefined;
  private readonly path: string | undefined;
  private pins: Record<string, string> = {};

  constructor(opts: { stateDir?: string; expected?: string[] }) {
    this.expected = opts.expected?.length ? opts.expected : undefined;
    this.path = opts.stateDir ? join(opts.stateDir, PINS_FILE) : undefined;
    if (!this.path) return;
    try {
      this.pins = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      // nothing pinned yet
    }
  }

  /**
   * Checks the certificate `fingerprint` shown by the manager at `address`. Returns the
   * MANAGER_CHANGED error to refuse it, or undefined to go on; `pinned` is set on first contact.
   */
  check(address: string, fingerprint: string): { error?: HwError; pinned?: boolean } {
    if (this.expected) {
      if (this.expected.includes(fingerprint)) return {};
      return { error: new HwError('MANAGER_CHANGED', `manager ${address} presented certificate ${fingerprint}, not the one given with --manager-fingerprint: refusing to talk to it`) };
    }
    const pinned = this.pins[address];
    if (pinned === fingerprint) return {};
    if (pinned) {
      return {
        error: new HwError('MANAGER_CHANGED', `manager ${address} presented certificate ${fingerprint} but ${pinned} was pinned at first contact: refusing to talk to it. If the manager was reinstalled on purpose, remove ${address} from ${this.path ?? PINS_FILE} or start with --manager-fingerprint`),
      };
    }
    this.pins[address] = fingerprint;
    if (this.path) writeDurable(this.path, JSON.stringify(this.pins, null, 2) + '\n');
    return { pinned: true };
  }
}
