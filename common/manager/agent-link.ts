// One connected agent, seen from the manager: requests with ids (several in flight), their
// timeouts, and file streams with credit-based flow control so a slow download never holds up
// reports, alerts or other commands on the same connection. The credit window is enforced: an
// agent that sends more than FILE_WINDOW_BYTES beyond what was credited is cut (CREDIT_EXCEEDED),
// so a transfer can never make the manager buffer more than that. A transfer that ends on our
// side for any reason (its receiver gone, a timeout, a bad chunk) tells the agent `cancel`.

import { FILE_WINDOW_BYTES } from '../wire/constants.ts';
import { HwError, type ErrorCode } from '../errors.ts';
import type { AgentMessage, CommandName, ManagerMessage } from '../wire/messages.ts';
import type { Peer } from '../wire/peer.ts';

/** Command timeouts (the manager gives up waiting on the agent). */
export const COMMAND_TIMEOUT_MS = 30_000;
/** A file transfer fails if no chunk arrives for this long. */
const FETCH_IDLE_TIMEOUT_MS = 30_000;

export interface FileSink {
  /** called once with the size the agent announced */
  start(size: number, path: string): void;
  /**
   * Consumes a chunk, given as the slices it arrived in (`bytes` in all; write them as they are,
   * joining them would copy every byte once more); resolve when it is written: that is what grants
   * the agent more credit.
   */
  write(parts: Buffer[], bytes: number): Promise<void> | void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  cmd: CommandName;
  onSettle?: () => void;
  stream?: {
    sink: FileSink;
    bytes: number;
    /** bytes credited back to the agent so far */
    credited: number;
    size: number;
    chain: Promise<void>;
    idleMs: number;
  };
}

export class AgentLink {
  readonly agentId: string;
  readonly peer: Peer<AgentMessage, ManagerMessage>;
  /** the agent numbers its samples and keeps them until acknowledged (both sides named acked-samples) */
  readonly ackedSamples: boolean;
  /** what the agent named in its hello (FEATURES) */
  readonly features: ReadonlySet<string>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Streams we cancelled: their in-flight chunks are dropped without a second cancel. */
  private readonly cancelled = new Set<number>();
  private readonly windowBytes: number;

  constructor(agentId: string, peer: Peer<AgentMessage, ManagerMessage>, opts: { windowBytes?: number; ackedSamples?: boolean; features?: string[] } = {}) {
    this.agentId = agentId;
    this.peer = peer;
    this.windowBytes = opts.windowBytes ?? FILE_WINDOW_BYTES;
    this.ackedSamples = opts.ackedSamples ?? false;
    this.features = new Set(opts.features ?? []);
  }

  /** Requests waiting for an answer or streaming (for tests and stats). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a command and waits for its answer. */
  request(cmd: CommandName, args: Record<string, unknown> = {}, timeoutMs = COMMAND_TIMEOUT_MS): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.allocId();
      const timer = setTimeout(() => this.settle(id, new HwError('TIMEOUT', `agent did not answer "${cmd}" within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.pending.set(id, { resolve, reject, timer, cmd });
      this.peer.send({ type: 'req', id, cmd, args }).catch((err) => this.settle(id, err));
    });
  }

  /**
   * Streams a file from the agent into `sink`. Resolves with the byte count and the agent's sha256
   * (which the sink's owner checks against what it wrote); rejects with a coded error otherwise
   * (the sink must then discard what it wrote). `signal` cancels the transfer on both sides.
   */
  fetch(path: string, sink: FileSink, signal?: AbortSignal, idleMs = FETCH_IDLE_TIMEOUT_MS): Promise<{ bytes: number; sha256: string }> {
    return new Promise((resolve, reject) => {
      const id = this.allocId();
      const timer = setTimeout(() => this.cancel(id, new HwError('TIMEOUT', `no data from the agent for ${Math.round(idleMs / 1000)} s`)), idleMs);
      const p: Pending = {
        resolve: resolve as (v: unknown) => void, reject, timer, cmd: 'fetch',
        stream: { sink, bytes: 0, credited: 0, size: -1, chain: Promise.resolve(), idleMs },
      };
      this.pending.set(id, p);
      const onAbort = () => this.cancel(id, new HwError('CANCELLED', 'the transfer was cancelled by the receiver'));
      if (signal?.aborted) {
        queueMicrotask(onAbort);
      } else if (signal) {
        signal.addEventListener('abort', onAbort, { once: true });
        p.onSettle = () => signal.removeEventListener('abort', onAbort);
      }
      this.peer.send({ type: 'req', id, cmd: 'fetch', args: { path } }).catch((err) => this.settle(id, err));
    });
  }

  /** Routes a message from the agent that belongs to a request. Returns false if it was not one. */
  onMessage(msg: AgentMessage): boolean {
    switch (msg.type) {
      case 'res': {
        const p = this.pending.get(msg.id);
        if (!p) return true; // late answer after a timeout: nothing waits for it
        if (msg.ok) {
          if (p.stream) return true; // a fetch ends with file-end, not res ok
          this.settle(msg.id, undefined, msg.result);
        } else {
          const e = msg.error!;
          this.settle(msg.id, new HwError(e.code as ErrorCode, e.message));
        }
        return true;
      }
      case 'file': {
        const s = this.pending.get(msg.id)?.stream;
        if (!s) {
          this.cancelOnce(msg.id);
          return true;
        }
        s.size = msg.size;
        try {
          s.sink.start(msg.size, msg.path);
        } catch (err) {
          this.cancel(msg.id, err as Error);
        }
        return true;
      }
      case 'file-end': {
        const p = this.pending.get(msg.id);
        if (!p?.stream) return true;
        const s = p.stream;
        // Wait until every chunk before the end is written. The sha256 is the agent's: the sink's
        // owner (the CLI, or the console's file) hashes what it wrote and compares, end to end;
        // hashing here too cost the manager a second of CPU per GB for nothing.
        s.chain = s.chain.then(() => {
          if (!this.pending.has(msg.id)) return;
          if (s.bytes !== msg.bytes) {
            this.settle(msg.id, new HwError('FILE_CORRUPT', `received ${s.bytes} bytes, the agent sent ${msg.bytes}`));
          } else {
            this.settle(msg.id, undefined, { bytes: s.bytes, sha256: msg.sha256 });
          }
        });
        return true;
      }
      default:
        return false;
    }
  }

  /** A data chunk of stream `id`, as slices (`bytes` in all). */
  onData(id: number, parts: Buffer[], bytes: number): void {
    const p = this.pending.get(id);
    if (!p?.stream || p.stream.size < 0) {
      // Unknown or finished stream (cancelled, timed out): tell the agent to stop, once. What it
      // had in flight when it was told is at most a window: dropped here, never buffered.
      if (!p) this.cancelOnce(id);
      else this.cancel(id, new HwError('BAD_MESSAGE', 'file data before the file message'));
      return;
    }
    const s = p.stream;
    s.bytes += bytes;
    p.timer.refresh();
    if (s.bytes - s.credited > this.windowBytes) {
      // The agent may have at most a window unacknowledged; more is a broken or hostile sender,
      // and buffering it would let it fill our memory.
      const err = new HwError('CREDIT_EXCEEDED', `the agent sent ${s.bytes - s.credited} bytes past its credit (window ${this.windowBytes})`);
      this.settle(id, err);
      this.peer.fail(err);
      return;
    }
    if (s.bytes > s.size) {
      this.cancel(id, new HwError('FILE_CHANGED', `the file grew during the transfer (over ${s.size} bytes)`));
      return;
    }
    s.chain = s.chain.then(async () => {
      if (!this.pending.has(id)) return;
      try {
        await s.sink.write(parts, bytes);
        s.credited += bytes;
        this.peer.post({ type: 'credit', id, bytes });
      } catch (err) {
        this.cancel(id, err as Error);
      }
    });
  }

  /** The connection is gone: every waiting request fails with DISCONNECTED. */
  close(reason: string): void {
    for (const id of [...this.pending.keys()]) {
      this.settle(id, new HwError('DISCONNECTED', `the agent disconnected (${reason})`));
    }
  }

  /** Ends a transfer on our side and tells the agent to stop it (close the file) too. */
  private cancel(id: number, err: Error): void {
    if (!this.pending.has(id)) return;
    this.cancelOnce(id);
    this.settle(id, err);
  }

  private cancelOnce(id: number): void {
    if (this.cancelled.has(id)) return;
    this.cancelled.add(id);
    // Bounded: ids are not reused for a long while, the oldest can be forgotten.
    if (this.cancelled.size > 64) this.cancelled.delete(this.cancelled.values().next().value as number);
    this.peer.post({ type: 'cancel', id });
  }

  private allocId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    return id;
  }

  private settle(id: number, err?: Error, value?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.onSettle?.();
    if (err) p.reject(err);
    else p.resolve(value);
  }
}
