// Receives an upgrade from the manager: checks what can be checked before a byte arrives (allowed,
// a pinned key, the manifest's signature, platform and arch, the size), then writes the executable
// to <exe>.new as the agent grants credit (never more than a window in flight, so memory stays
// bounded whatever the size), fsyncs it, and checks size, sha256 and signature on what is on disk.
// Every refusal is a coded error and happens before anything is replaced; the partial file goes.

import type { KeyObject } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { FILE_WINDOW_BYTES } from '../wire/constants.ts';
import { HwError, toWireError } from '../errors.ts';
import type { UpgradeEnd, UpgradeStart } from '../wire/messages.ts';
import { checkPlatform, parseSignedManifest, verifyFile, verifyManifest, type SignedManifest } from '../security/upgrade-sign.ts';
import type { Link } from './connection.ts';

export const UPGRADE_OFF = 'this agent does not take upgrades from the manager: its operator allows them with `agent --allow-upgrade`';

export interface VerifiedUpgrade {
  path: string;
  sig: SignedManifest;
  by?: string;
}

export interface UpgradeReceiverOptions {
  allowed: boolean;
  key: () => KeyObject | undefined;
  /** the executable to replace; the new one is written to `<exe>.new` */
  exe: string;
  platform?: string;
  arch?: string;
  window?: number;
  /** the executable is verified and on disk: the switch may begin */
  verified: (u: VerifiedUpgrade) => void;
  log: (line: string) => void;
}

interface Transfer {
  id: number;
  peer: Link;
  sig: SignedManifest;
  by?: string;
  fh: FileHandle;
  size: number;
  received: number;
  granted: number;
  chain: Promise<void>;
  failed: boolean;
}

export class UpgradeReceiver {
  private readonly o: UpgradeReceiverOptions;
  private t: Transfer | undefined;
  /** a verified upgrade was handed on: nothing more is taken */
  private done = false;

  constructor(o: UpgradeReceiverOptions) {
    this.o = o;
  }

  get newPath(): string {
    return `${this.o.exe}.new`;
  }

  async start(peer: Link, msg: UpgradeStart): Promise<void> {
    try {
      if (!this.o.allowed) throw new HwError('UPGRADE_NOT_ALLOWED', UPGRADE_OFF);
      if (this.t || this.done) throw new HwError('UPGRADE_BUSY', 'an upgrade is already under way on this agent');
      const key = this.o.key();
      if (!key) throw new HwError('UPGRADE_NO_KEY', 'this agent has no upgrade key pinned: give it `agent --upgrade-key <key>` (`manager upgrade-key show`), or restart it: it pins the key the manager offers when it welcomes it (a key made after the agent connected is offered at its next connection)');
      const sig = parseSignedManifest(msg.sig);
      verifyManifest(sig, key);
      checkPlatform(sig.manifest, this.o.platform ?? process.platform, this.o.arch ?? process.arch);
      if (msg.size !== sig.manifest.size) throw new HwError('UPGRADE_TRUNCATED', `the manager announces ${msg.size} bytes, the signed executable has ${sig.manifest.size}`);
      await rm(this.newPath, { force: true });
      const fh = await open(this.newPath, 'wx', 0o700).catch((err) => { throw new HwError('STORAGE_FAILED', `cannot write ${this.newPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); });
      const window = this.o.window ?? FILE_WINDOW_BYTES;
      this.t = { id: msg.id, peer, sig, ...(msg.by ? { by: msg.by } : {}), fh, size: msg.size, received: 0, granted: window, chain: Promise.resolve(), failed: false };
      this.o.log(`receiving an upgrade to ${sig.manifest.version} (${msg.size} bytes${msg.by ? `, asked by ${msg.by}` : ''})`);
      peer.post({ type: 'upgrade-credit', id: msg.id, bytes: window });
    } catch (err) {
      this.refuse(peer, msg.id, err);
    }
  }

  /** File data of transfer `id`: only as much as was granted is taken. */
  data(peer: Link, id: number, parts: Buffer[], bytes: number): void {
    const t = this.t;
    if (!t || t.id !== id || t.peer !== peer || t.failed) return; // after a refusal: what was in flight is dropped
    t.received += bytes;
    if (t.received > t.granted) {
      this.fail(new HwError('CREDIT_EXCEEDED', `the manager sent ${t.received - t.granted} bytes past the credit granted`));
      return;
    }
    if (t.received > t.size) {
      this.fail(new HwError('UPGRADE_TRUNCATED', `the manager sent more than the ${t.size} bytes announced`));
      return;
    }
    t.chain = t.chain.then(async () => {
      if (t.failed) return;
      for (const p of parts) {
        let off = 0;
        while (off < p.length) off += (await t.fh.write(p, off, p.length - off)).bytesWritten;
      }
      const more = Math.min(bytes, t.size - t.granted);
      if (more > 0) {
        t.granted += more;
        peer.post({ type: 'upgrade-credit', id, bytes: more });
      }
    }).catch((err) => this.fail(err));
  }

  async end(peer: Link, msg: UpgradeEnd): Promise<void> {
    const t = this.t;
    if (!t || t.id !== msg.id || t.peer !== peer) return;
    await t.chain;
    if (t.failed) return;
    try {
      if (msg.bytes !== t.received || t.received !== t.size) throw new HwError('UPGRADE_TRUNCATED', `received ${t.received} of ${t.size} bytes`);
      await t.fh.sync();
      await t.fh.close();
      // What is checked is what the disk holds, read back after the fsync.
      await verifyFile(this.newPath, t.sig, this.o.key()!, { platform: this.o.platform ?? process.platform, arch: this.o.arch ?? process.arch });
    } catch (err) {
      this.fail(err);
      return;
    }
    this.t = undefined;
    this.done = true;
    this.o.log(`the upgrade to ${t.sig.manifest.version} is on disk and verified: switching`);
    peer.post({ type: 'upgrade-result', id: t.id, ok: true });
    this.o.verified({ path: this.newPath, sig: t.sig, ...(t.by ? { by: t.by } : {}) });
  }

  cancel(id: number): void {
    if (this.t?.id === id) this.fail(new HwError('CANCELLED', 'the manager cancelled the upgrade'), false);
  }

  /** The connection is gone: the partial file goes. */
  lost(): void {
    if (this.t) this.fail(new HwError('DISCONNECTED', 'connection lost during the upgrade'), false);
  }

  private refuse(peer: Link, id: number, err: unknown): void {
    const e = toWireError(err);
    this.o.log(`upgrade refused: ${e.message} [${e.code}]`);
    if (!peer.closed) peer.post({ type: 'upgrade-result', id, ok: false, error: e });
  }

  private fail(err: unknown, tell = true): void {
    const t = this.t;
    if (!t || t.failed) return;
    t.failed = true;
    this.t = undefined;
    void t.fh.close().catch(() => {}).then(() => rm(this.newPath, { force: true }));
    if (tell) this.refuse(t.peer, t.id, err);
    else this.o.log(`upgrade stopped: ${(err as Error).message}`);
  }
}
