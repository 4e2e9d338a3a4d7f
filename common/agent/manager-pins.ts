// Which manager certificates the agent trusts: the fingerprints given with --manager-fingerprint,
// or else the one each manager address showed at first contact, kept in the state folder (trust
// on first use, like SSH's known_hosts). A pin file that exists but cannot be read fails closed:
// forgetting the pins would mean trusting whatever answers next.

import { join } from 'node:path';
import { HwError } from '../errors.ts';
import { readState } from '../fs/durable.ts';
import { RetryingWriter, type RetryTimers } from '../fs/retrying-writer.ts';

export const PINS_FILE = 'manager-pins.json';
const FINGERPRINT_RE = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;

export interface ManagerPinsOptions {
  stateDir?: string;
  expected?: string[];
  log?: (line: string) => void;
  retryMs?: number;
  write?: (path: string, data: string) => void;
  timers?: RetryTimers;
}

export class ManagerPins {
  private readonly expected: string[] | undefined;
  private readonly path: string | undefined;
  private readonly writer: RetryingWriter | undefined;
  private pins: Record<string, string> = {};

  /** Throws STATE_CORRUPT when the pin file exists but cannot be read or is not a pin file. */
  constructor(opts: ManagerPinsOptions) {
    this.expected = opts.expected?.length ? opts.expected : undefined;
    this.path = opts.stateDir ? join(opts.stateDir, PINS_FILE) : undefined;
    // With --manager-fingerprint the file plays no part, so a broken one stops nothing.
    if (!this.path || this.expected) return;
    this.writer = new RetryingWriter({
      path: this.path, ...(opts.log ? { log: opts.log } : {}), ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
      ...(opts.write ? { write: opts.write } : {}), ...(opts.timers ? { timers: opts.timers } : {}),
    });
    this.pins = readState(this.path, parsePins,
      'the agent will not connect without it, because forgetting the pins would trust whatever manager answers next. Fix it (one "host:port": "fingerprint" entry per manager), '
      + 'or start the agent with --manager-fingerprint <sha256> (the manager prints it), or delete the file to trust on first use again') ?? {};
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
    // On a full disk the pin holds for this run and is written when the disk takes it.
    this.writer?.write(JSON.stringify(this.pins, null, 2) + '\n');
    return { pinned: true };
  }

  close(): void {
    this.writer?.flush();
    this.writer?.close();
  }
}

function parsePins(text: string): Record<string, string> {
  const v = JSON.parse(text) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  for (const [address, fp] of Object.entries(v)) {
    if (typeof fp !== 'string' || !FINGERPRINT_RE.test(fp)) throw new Error(`the pin of ${address} is not a SHA-256 fingerprint`);
  }
  return v as Record<string, string>;
}
