// A framed connection to one peer over any Duplex stream: decodes frames, validates messages,
// answers pings, detects a silent peer, and writes with backpressure. Its send queue is bounded:
// reading pauses while more than SEND_BUFFER_BYTES wait to be sent (so a peer that never reads
// cannot make us queue replies), and a peer whose unsent bytes pass MAX_UNSENT_BYTES, or that
// leaves them undrained for SLOW_PEER_TIMEOUT_MS, is cut with SLOW_PEER.

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { HEARTBEAT_MISSES, HEARTBEAT_MS, MAX_FRAME_BYTES } from './constants.ts';
import { MAX_UNSENT_BYTES, SEND_BUFFER_BYTES, SLOW_PEER_TIMEOUT_MS } from './peer-limits.ts';
import { HwError } from '../errors.ts';
import { drained } from '../util/drain.ts';
import { FrameDecoder, KIND_JSON, encodeDataHeader, encodeJson, encodeJsonAll } from './frame.ts';

export interface PeerOptions<In> {
  /** Validates one JSON body; throws HwError on anything wrong. */
  parse: (body: Buffer) => In;
  heartbeatMs?: number;
  heartbeatMisses?: number;
  maxFrameBytes?: number;
  now?: () => number;
  /**
   * A whole frame whose message is bad (BAD_JSON, BAD_MESSAGE, UNKNOWN_TYPE): return true to drop
   * it and go on (a trusted peer, maybe newer than us), false to close. Default: close. A bad frame
   * header always closes: the byte stream can no longer be followed.
   */
  onBadMessage?: (err: Error) => boolean;
  /**
   * Quiet until `open()`: no pong, no ping. A server passes it so that a connection that has not
   * said hello gets nothing back (a ping is then handed to the owner like any message).
   */
  quiet?: boolean;
  /** Unsent bytes past which the peer is cut with SLOW_PEER (default MAX_UNSENT_BYTES). */
  maxUnsentBytes?: number;
  /** Unsent bytes above which reading pauses until they drain (default SEND_BUFFER_BYTES). */
  pauseAboveBytes?: number;
  /**
   * Pause reading while our sends are undrained (default true). A side whose bulk sends are
   * already bounded by its own drain waits (the agent streaming a file) passes false, so that it
   * still reads `cancel` and `credit` while the other side is slow; the hard bound still applies.
   */
  pauseReads?: boolean;
  /** How long reading may stay paused on an undrained queue before SLOW_PEER. */
  slowPeerMs?: number;
}

type PingLike = { type: string; at?: number };

export interface PeerEvents<In> {
  message: [In];
  /** a data chunk of a stream: its bytes as the slices they arrived in (see FrameDecoder), and their total */
  data: [number, Buffer[], number];
  /** err is set when the connection ended because of a fault (bad frame, heartbeat, socket error). */
  close: [HwError | Error | undefined];
}

export class Peer<In extends PingLike, Out extends PingLike> extends EventEmitter<PeerEvents<In>> {
  readonly stream: Duplex;
  private readonly decoder: FrameDecoder;
  private readonly parse: (body: Buffer) => In;
  private readonly now: () => number;
  private readonly onBadMessage: ((err: Error) => boolean) | undefined;
  private heartbeatMs: number;
  private readonly misses: number;
  /** the heartbeat group this peer is checked in (shared timer), while open */
  private beat: BeatGroup | undefined;
  private lastRx: number;
  private lastTx: number;
  private failure: HwError | Error | undefined;
  private quiet: boolean;
  private readonly maxUnsent: number;
  private readonly pauseAbove: number;
  private readonly slowPeerMs: number;
  private pausedAt = 0;
  closed = false;

  constructor(stream: Duplex, opts: PeerOptions<In>) {
    super();
    this.stream = stream;
    this.parse = opts.parse;
    this.now = opts.now ?? Date.now;
    this.onBadMessage = opts.onBadMessage;
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
    this.misses = opts.heartbeatMisses ?? HEARTBEAT_MISSES;
    this.decoder = new FrameDecoder(opts.maxFrameBytes ?? MAX_FRAME_BYTES);
    this.quiet = !!opts.quiet;
    this.maxUnsent = opts.maxUnsentBytes ?? MAX_UNSENT_BYTES;
    this.pauseAbove = opts.pauseReads === false ? Number.POSITIVE_INFINITY : opts.pauseAboveBytes ?? SEND_BUFFER_BYTES;
    this.slowPeerMs = opts.slowPeerMs ?? SLOW_PEER_TIMEOUT_MS;
    this.lastRx = this.lastTx = this.now();
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err) => { this.failure ??= err; });
    stream.on('close', () => this.onClose());
    stream.on('end', () => stream.end());
    this.armHeartbeat();
  }

  /** Ends the quiet start: pings are answered and sent from now on. */
  open(): void {
    this.quiet = false;
  }

  /** Bytes written to the stream and not yet taken by the other end. */
  get unsentBytes(): number {
    return this.stream.writableLength;
  }

  /** Changes the heartbeat period (the manager tells the agent its own in the welcome). */
  setHeartbeat(ms: number): void {
    this.heartbeatMs = ms;
    this.armHeartbeat();
  }

  /** Sends a message; resolves at once unless over SEND_BUFFER_BYTES are queued, then on drain. */
  async send(msg: Out): Promise<void> {
    if (this.closed) throw new HwError('DISCONNECTED', 'connection is closed');
    this.write(encodeJson(msg));
    if (this.stream.writableLength > SEND_BUFFER_BYTES) await this.drain();
  }

  /** Sends without waiting for drain: for small control messages where order matters more. */
  post(msg: Out): void {
    if (this.closed) return;
    this.write(encodeJson(msg));
  }

  /** Every write passes here: the one place where the unsent bound is checked. */
  private write(buf: Buffer, onWritten?: () => void): void {
    this.lastTx = this.now();
    this.stream.write(buf, onWritten);
    this.checkUnsent();
  }

  private checkUnsent(): void {
    const unsent = this.stream.writableLength;
    if (unsent > this.maxUnsent) {
      this.fail(new HwError('SLOW_PEER', `the peer does not read: ${unsent} bytes unsent (limit ${this.maxUnsent})`));
    } else if (unsent > this.pauseAbove && !this.pausedAt) {
      // Stop reading what would make us answer more; resumed on drain.
      this.pausedAt = this.now();
      this.stream.pause();
      this.stream.once('drain', this.onDrain);
    }
  }

  private readonly onDrain = (): void => {
    if (!this.pausedAt || this.closed) return;
    this.pausedAt = 0;
    this.stream.resume();
  };

  /**
   * Sends a data chunk of stream `id`, waiting for drain when the socket buffer is full.
   * `onWritten` is called once the stream has taken the bytes (so the buffer may be reused).
   */
  async sendData(id: number, data: Buffer, onWritten?: () => void): Promise<void> {
    if (this.closed) throw new HwError('DISCONNECTED', 'connection is closed');
    this.lastTx = this.now();
    // Corked: header and data leave in one write (one TLS record run), not a 9-byte one first.
    this.stream.cork();
    this.stream.write(encodeDataHeader(id, data.length));
    this.stream.write(data, onWritten);
    this.stream.uncork();
    this.checkUnsent();
    // Some data queued keeps the socket busy while the next chunk is read; waiting for a full
    // drain after every chunk left the wire idle half the time.
    if (this.stream.writableLength > SEND_BUFFER_BYTES) await this.drain();
  }

  private async drain(): Promise<void> {
    if (this.closed || !(await drained(this.stream)) || this.closed) {
      throw new HwError('DISCONNECTED', 'connection closed while sending');
    }
  }

  /** Closes with an error (logged by the owner through the close event). */
  fail(err: HwError | Error): void {
    this.failure ??= err;
    this.stream.destroy();
  }

  /** Ends the connection cleanly after what was queued is written. */
  end(): void {
    this.stream.end();
    // A peer that never closes its side must not keep us waiting.
    setTimeout(() => this.stream.destroy(), 2000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastRx = this.now();
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err as HwError);
      return;
    }
    // The pongs this chunk's pings are owed leave as one write: a queued write costs the heap some
    // hundreds of bytes whatever its size, so a 30-byte pong per ping from a peer that does not
    // read held about 12 MiB per such peer by the time 1 MiB of them paused reading.
    let pongs: Out[] | undefined;
    for (const f of frames) {
      if (this.closed) return;
      if (f.kind === KIND_JSON) {
        let msg: In;
        try {
          msg = this.parse(f.body);
        } catch (err) {
          if (this.onBadMessage?.(err as Error)) continue;
          this.fail(err as Error);
          return;
        }
        if (this.quiet && (msg.type === 'ping' || msg.type === 'pong')) {
          // Not open yet: nothing is answered; the owner decides (a server closes).
          this.emit('message', msg);
          continue;
        }
        if (msg.type === 'ping') {
          (pongs ??= []).push({ type: 'pong', at: msg.at ?? 0 } as Out);
          continue;
        }
        if (msg.type === 'pong') continue;
        this.emit('message', msg);
      } else {
        this.emit('data', f.stream, f.data, f.bytes);
      }
    }
    // Not after end(): an owner may have ended the connection on a message of this same read.
    if (pongs && !this.closed && this.stream.writable) this.write(encodeJsonAll(pongs));
  }

  private armHeartbeat(): void {
    this.beat?.remove(this);
    this.beat = BeatGroup.join(this, Math.max(5, Math.floor(this.heartbeatMs / 2)));
  }

  /** Checks heartbeat and slow-peer limits; run by the peer's BeatGroup every half heartbeat. */
  onTick(): void {
    const t = this.now();
    if (this.pausedAt && t - this.pausedAt > this.slowPeerMs) {
      this.fail(new HwError('SLOW_PEER', `the peer has not read for ${t - this.pausedAt} ms (${this.stream.writableLength} bytes unsent)`));
      return;
    }
    // While paused we do not read, so silence is ours: the slow-peer limit above applies instead.
    if (this.pausedAt) return;
    if (t - this.lastRx > this.heartbeatMs * this.misses) {
      this.fail(new HwError('HEARTBEAT_TIMEOUT', `no data from peer for ${t - this.lastRx} ms`));
      return;
    }
    if (!this.quiet && t - this.lastTx >= this.heartbeatMs) this.post({ type: 'ping', at: t } as Out);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.beat?.remove(this);
    this.beat = undefined;
    this.stream.off('drain', this.onDrain);
    this.emit('close', this.failure);
  }
}

/**
 * One timer for all peers with the same heartbeat tick, instead of one interval per connection:
 * a manager with 10,000 agents kept 10,000 timers and their closures. Each peer is still checked
 * about once a tick. A small group (an agent's one connection) is checked all at once, once a
 * tick; a large one in slices every 50 ms, so that the pings of a large fleet (one per peer per
 * heartbeat) leave about 50 at a time rather than thousands in one turn of the event loop.
 */
class BeatGroup {
  private static readonly groups = new Map<number, BeatGroup>();
  /** peers up to this many are checked together; above, in slices */
  private static readonly SMALL = 100;
  private readonly peers: Peer<PingLike, PingLike>[] = [];
  private readonly slots = new Map<Peer<PingLike, PingLike>, number>();
  private timer: NodeJS.Timeout | undefined;
  private slices = 0;
  private cursor = 0;

  private constructor(private readonly tickMs: number) {}

  static join(peer: Peer<any, any>, tickMs: number): BeatGroup {
    let g = BeatGroup.groups.get(tickMs);
    if (!g) BeatGroup.groups.set(tickMs, (g = new BeatGroup(tickMs)));
    g.slots.set(peer, g.peers.length);
    g.peers.push(peer);
    g.rearm();
    return g;
  }

  remove(peer: Peer<any, any>): void {
    const i = this.slots.get(peer);
    if (i === undefined) return;
    this.slots.delete(peer);
    const last = this.peers.pop()!;
    if (last !== peer) {
      this.peers[i] = last;
      this.slots.set(last, i);
    }
    if (!this.peers.length) {
      clearInterval(this.timer);
      this.timer = undefined;
      BeatGroup.groups.delete(this.tickMs);
      return;
    }
    this.rearm();
  }

  private rearm(): void {
    const slices = this.peers.length <= BeatGroup.SMALL ? 1 : Math.max(1, Math.min(100, Math.floor(this.tickMs / 50)));
    if (slices === this.slices && this.timer) return;
    this.slices = slices;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.run(), this.tickMs / slices);
    this.timer.unref();
  }

  private run(): void {
    const n = this.peers.length;
    const chunk = Math.ceil(n / this.slices);
    for (let k = 0; k < chunk && k < n; k++) {
      if (this.cursor >= this.peers.length) this.cursor = 0;
      this.peers[this.cursor++]!.onTick();
    }
  }
}
