// Streams an agent executable from disk to one agent: the reverse of a download, with the agent in
// charge of the window. Nothing is sent that the agent did not grant with `upgrade-credit`, and
// the file is read a chunk at a time as credit comes (never a copy in memory per host), with the
// socket's backpressure on top. Resolves when the agent says the file is on its disk and verified.

import { open } from 'node:fs/promises';
import { FILE_CHUNK_BYTES } from '../wire/constants.ts';
import { HwError, type ErrorCode } from '../errors.ts';
import type { AgentMessage } from '../wire/messages.ts';
import type { SignedManifest } from '../security/upgrade-sign.ts';
import type { AgentLink } from './agent-link.ts';

/** A transfer fails when the agent grants nothing and answers nothing for this long. */
const UPGRADE_IDLE_MS = 60_000;

interface Transfer {
  link: AgentLink;
  granted: number;
  wake: (() => void) | undefined;
  result: { ok: true } | { ok: false; err: HwError } | undefined;
  /** the result is the agent's own answer (no cancel owed) */
  answered: boolean;
  timer: NodeJS.Timeout;
  idleMs: number;
}

export class UpgradeSender {
  private readonly transfers = new Map<number, Transfer>();
  private nextId = 1;

  get active(): number {
    return this.transfers.size;
  }

  async send(link: AgentLink, file: string, sig: SignedManifest, by: string, o: { idleMs?: number; onBytes?: (sent: number) => void } = {}): Promise<void> {
    const fh = await open(file, 'r').catch((err) => {
      throw new HwError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    });
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    const idleMs = o.idleMs ?? UPGRADE_IDLE_MS;
    const t: Transfer = {
      link, granted: 0, wake: undefined, result: undefined, answered: false, idleMs,
      timer: setTimeout(() => this.finish(id, { ok: false, err: new HwError('TIMEOUT', `the agent granted nothing and answered nothing for ${Math.round(idleMs / 1000)} s`) }), idleMs),
    };
    this.transfers.set(id, t);
    try {
      const size = (await fh.stat()).size;
      if (size !== sig.manifest.size) throw new HwError('UPGRADE_TRUNCATED', `${file} has ${size} bytes, its signature says ${sig.manifest.size}: sign it again`);
      await link.peer.send({ type: 'upgrade', id, size, sig: sig as unknown as Record<string, unknown>, by });
      let sent = 0;
      while (sent < size) {
        while (t.granted <= sent && !t.result && !link.peer.closed) await new Promise<void>((r) => { t.wake = r; });
        t.wake = undefined;
        if (t.result || link.peer.closed) break;
        const n = Math.min(FILE_CHUNK_BYTES, t.granted - sent, size - sent);
        const buf = Buffer.allocUnsafe(n);
        const { bytesRead } = await fh.read(buf, 0, n, sent);
        if (bytesRead !== n) throw new HwError('FILE_CHANGED', `${file} shrank while it was sent`);
        await link.peer.sendData(id, buf);
        sent += n;
        o.onBytes?.(sent);
      }
      if (!t.result && !link.peer.closed) await link.peer.send({ type: 'upgrade-end', id, bytes: sent });
      while (!t.result && !link.peer.closed) await new Promise<void>((r) => { t.wake = r; });
      const r = t.result ?? { ok: false as const, err: new HwError('DISCONNECTED', 'the agent disconnected during the upgrade') };
      if (!r.ok) throw r.err;
    } catch (err) {
      if (!t.answered && !link.peer.closed) link.peer.post({ type: 'upgrade-cancel', id });
      throw err;
    } finally {
      clearTimeout(t.timer);
      this.transfers.delete(id);
      await fh.close();
    }
  }

  /** An agent's upgrade message; false for any other. */
  onMessage(link: AgentLink, msg: AgentMessage): boolean {
    if (msg.type !== 'upgrade-credit' && msg.type !== 'upgrade-result') return false;
    const t = this.transfers.get(msg.id);
    if (!t || t.link !== link) return true;
    t.timer.refresh();
    if (msg.type === 'upgrade-credit') {
      t.granted += msg.bytes;
      t.wake?.();
    } else {
      t.answered = true;
      this.finish(msg.id, msg.ok ? { ok: true } : { ok: false, err: new HwError(msg.error!.code as ErrorCode, msg.error!.message) });
    }
    return true;
  }

  /** The agent's connection is gone: its transfers end. */
  closed(link: AgentLink): void {
    for (const [id, t] of this.transfers) if (t.link === link) this.finish(id, { ok: false, err: new HwError('DISCONNECTED', 'the agent disconnected during the upgrade') });
  }

  private finish(id: number, r: Transfer['result']): void {
    const t = this.transfers.get(id);
    if (!t || t.result) return;
    t.result = r;
    t.wake?.();
  }
}
