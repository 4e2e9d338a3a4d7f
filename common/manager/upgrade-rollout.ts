// A rollout: a signed executable sent to agents in batches. Each host of a batch is checked (online,
// understands upgrades, its hello's platform and arch those of the signature), sent the file
// (upgrade-sender.ts), then waited for until it says hello again on the new version (done) or
// reports a rollback, or the wait runs out (failed). A batch with more failures than allowed stops
// the rollout. Every step is in the record (UPGRADE_STARTED / UPGRADE_DONE / UPGRADE_FAILED, with
// who asked), and the rollout's progress is written durably to <data-dir>/upgrade-rollout.json at
// every step. A manager restarted during a rollout shows it as interrupted, where it stopped; the
// hosts it caught sending or switching are judged by the version of their next hello (the new
// one: done; the old one: pending again), and `resume` goes on with the pending hosts once the
// executable is checked to be the one the rollout began with (same sha256).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { HwError, toWireError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { checkExeTarget } from '../security/exe-format.ts';
import { hashFile, readSignature, type SignedManifest } from '../security/upgrade-sign.ts';
import { FEATURES, type Hello, type UpgradeOutcome } from '../wire/messages.ts';
import type { HostProgress, HostStep, RolloutStatus } from '../api/types.ts';
import type { AgentLink } from './agent-link.ts';
import type { AgentRecord, ManagerState } from './state.ts';
import type { UpgradeSender } from './upgrade-sender.ts';

export type { HostProgress, HostStep, RolloutStatus };

export const ROLLOUT_FILE = 'upgrade-rollout.json';
/** How long a host has to come back on the new version after it took the file (its probation and more). */
export const DEFAULT_UPGRADE_WAIT_MS = 120_000;
/**
 * After a resume, how long a host not yet reconnected to the restarted manager is waited for
 * before it counts as offline: agents retry within their backoff cap (30 s), with room to spare.
 */
export const DEFAULT_RECONNECT_MS = 60_000;

export interface RolloutRequest {
  targets: AgentRecord[];
  file: string;
  /** hosts a batch: a count, or a percentage of the targets */
  batch: { count: number } | { percent: number };
  maxFailures: number;
  by: string;
}

export interface RolloutDeps {
  dataDir: string;
  state: ManagerState;
  link: (agentId: string) => AgentLink | undefined;
  sender: UpgradeSender;
  now: () => number;
  notice: (line: string) => void;
  waitMs?: number;
  reconnectMs?: number;
}

type Result = { ok: true } | { ok: false; code: string; reason: string };
type Waiter = (r: Result) => void;

/** Steps a restart can cut short: judged by the host's next hello. */
const UNFINISHED: ReadonlySet<HostStep> = new Set(['sending', 'switching']);

export class Rollouts {
  private readonly d: RolloutDeps;
  private current: RolloutStatus | undefined;
  private running = false;
  private readonly features = new Map<string, boolean>();
  private readonly waiters = new Map<string, { version: string; done: Waiter }>();
  /** hosts a restart caught sending or switching, until their next hello */
  private readonly unjudged = new Set<string>();
  /** a resumed rollout waiting for a host's next hello */
  private readonly helloWaits = new Map<string, () => void>();
  /** listeners of progress (the API's stream) */
  private readonly listeners = new Set<(h: HostProgress, s: RolloutStatus) => void>();

  constructor(d: RolloutDeps) {
    this.d = d;
    const saved = readState(this.path, (t) => JSON.parse(t) as RolloutStatus, 'delete it to forget the last rollout');
    this.current = saved;
    if (saved?.state === 'running') {
      // the manager stopped during it: shown as where it stopped, until resumed
      saved.state = 'interrupted';
      saved.interruptedAt = d.now();
      this.save();
    }
    if (saved?.state === 'interrupted') for (const h of saved.hosts) if (UNFINISHED.has(h.step)) this.unjudged.add(h.agentId);
  }

  private get path(): string {
    return join(this.d.dataDir, ROLLOUT_FILE);
  }

  status(): RolloutStatus | undefined {
    return this.current;
  }

  onProgress(fn: (h: HostProgress, s: RolloutStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Every hello: whether it takes upgrades, and whether a host we wait for is back on the new version. */
  hello(h: Hello): void {
    this.features.set(h.id, h.features?.includes(FEATURES.upgrade) ?? false);
    const w = this.waiters.get(h.id);
    if (w && h.version === w.version) w.done({ ok: true });
    if (this.unjudged.has(h.id)) this.judge(h.id, h.version);
    this.helloWaits.get(h.id)?.();
  }

  /** A host a restart caught mid-transfer or mid-switch, back: on the new version it is done, else pending again. */
  private judge(agentId: string, version: string): void {
    this.unjudged.delete(agentId);
    const s = this.current;
    const h = s?.hosts.find((x) => x.agentId === agentId);
    if (s && h && UNFINISHED.has(h.step)) {
      const on = version === s.version;
      h.note = `was ${h.step} when the manager stopped; came back on ${version}${on ? '' : ': pending again'}`;
      this.set(s, h, on ? 'done' : 'waiting');
    }
  }

  /** The agent that runs after a switch says how it went. */
  outcome(agentId: string, msg: UpgradeOutcome): void {
    const rec = this.d.state.agent(agentId);
    const agent = { id: agentId, name: rec?.name ?? agentId };
    if (msg.ok) {
      this.d.state.record({ at: this.d.now(), event: 'upgrade', type: 'UPGRADE_DONE', agent, from: msg.from, to: msg.to, by: msg.by ?? null }, true);
      this.waiters.get(agentId)?.done({ ok: true });
    } else {
      const reason = msg.reason ?? 'rolled back';
      this.d.state.record({ at: this.d.now(), event: 'upgrade', type: 'UPGRADE_FAILED', agent, from: msg.from, to: msg.to, by: msg.by ?? null, reason }, true);
      this.d.notice(`agent ${agent.name} rolled back to ${msg.version}: ${reason}`);
      this.waiters.get(agentId)?.done({ ok: false, code: 'UPGRADE_FAILED', reason: `rolled back to ${msg.version}: ${reason}` });
    }
  }

  /** Checks the signature and starts the rollout in the background; returns its first status. */
  start(req: RolloutRequest): RolloutStatus {
    if (this.running) throw new HwError('UPGRADE_BUSY', 'a rollout is under way: see `manager upgrade status`');
    const sig = readSignature(req.file);
    let size: number;
    try {
      size = statSync(req.file).size;
    } catch (err) {
      throw new HwError('FILE_NOT_FOUND', `cannot read ${req.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (size !== sig.manifest.size) throw new HwError('UPGRADE_TRUNCATED', `${req.file} has ${size} bytes, its signature says ${sig.manifest.size}: sign it again`);
    checkExeTarget(req.file, sig.manifest);
    const t = this.d.now();
    // Hosts already on the version are skipped at once: the batches (and a --batch 10%) are of the others.
    const hosts: HostProgress[] = req.targets.map((a) => ({ agent: a.name, agentId: a.id, step: a.version === sig.manifest.version ? 'skipped' : 'waiting', from: a.version, at: t }));
    const todo = hosts.filter((h) => h.step === 'waiting');
    const n = todo.length;
    const batchSize = 'count' in req.batch ? req.batch.count : Math.max(1, Math.ceil((n * req.batch.percent) / 100));
    this.unjudged.clear();
    this.current = {
      by: req.by, file: req.file, version: sig.manifest.version, platform: sig.manifest.platform, arch: sig.manifest.arch, sha256: sig.manifest.sha256, size,
      batchSize, maxFailures: req.maxFailures, state: 'running', startedAt: t, batch: 1, batches: Math.max(1, Math.ceil(n / batchSize)),
      hosts,
    };
    this.launch(this.current, sig, todo, 1);
    return this.current;
  }

  /**
   * Goes on with an interrupted rollout: its pending hosts (those not started, and those a restart
   * caught sending or switching that did not come back on the new version), in batches as before,
   * once the executable is checked to be the one it began with. Recorded with who asked.
   */
  async resume(by: string): Promise<RolloutStatus> {
    if (this.running) throw new HwError('UPGRADE_BUSY', 'a rollout is under way: see `manager upgrade status`');
    const s = this.current;
    if (!s) throw new HwError('UPGRADE_NOT_RESUMABLE', 'there is no rollout to resume');
    if (s.state !== 'interrupted') throw new HwError('UPGRADE_NOT_RESUMABLE', `the last rollout is ${s.state}, not interrupted: start a new one with \`manager upgrade\``);
    this.running = true; // no second resume or start while the file is hashed
    let sig: SignedManifest;
    try {
      sig = readSignature(s.file);
      const now = await hashFile(s.file).catch((err) => {
        throw new HwError('FILE_NOT_FOUND', `cannot read ${s.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      });
      if (now.sha256 !== s.sha256 || sig.manifest.sha256 !== s.sha256 || sig.manifest.version !== s.version) {
        throw new HwError('UPGRADE_FILE_CHANGED', `${s.file} is not the executable the rollout began with (sha256 ${now.sha256}, the rollout's ${s.sha256}): start a new rollout to send it`);
      }
    } catch (err) {
      this.running = false;
      throw err;
    }
    const pending = s.hosts.filter((h) => h.step === 'waiting' || UNFINISHED.has(h.step));
    s.state = 'running';
    s.resumedAt = this.d.now();
    s.resumedBy = by;
    delete s.finishedAt;
    this.d.state.record({
      at: this.d.now(), event: 'upgrade', type: 'UPGRADE_RESUMED', by, to: s.version, sha256: s.sha256, file: s.file, pending: pending.length, batch: s.batch ?? 1,
    }, true);
    this.d.notice(`upgrade to ${s.version} resumed by ${by}: ${pending.length} host${pending.length === 1 ? '' : 's'} to go`);
    this.launch(s, sig, pending, s.batch ?? 1);
    return s;
  }

  /** Runs the hosts in the background from batch number `first`; `running` until it ends. */
  private launch(s: RolloutStatus, sig: SignedManifest, hosts: HostProgress[], first: number): void {
    this.running = true;
    s.batches = first - 1 + Math.max(1, Math.ceil(hosts.length / s.batchSize));
    this.save();
    void this.run(s, sig, hosts, first).catch((err) => {
      s.state = 'stopped';
      s.finishedAt = this.d.now();
      this.save();
      this.d.notice(`upgrade to ${s.version} stopped: ${(err as Error).message}`);
    }).finally(() => { this.running = false; });
  }

  private async run(s: RolloutStatus, sig: SignedManifest, hosts: HostProgress[], first: number): Promise<void> {
    for (let i = 0, b = first; i < hosts.length; i += s.batchSize, b++) {
      s.batch = b;
      const batch = hosts.slice(i, i + s.batchSize);
      const results = await Promise.all(batch.map((h) => this.host(s, sig, h)));
      const failures = results.filter((ok) => !ok).length;
      if (failures >= s.maxFailures && i + s.batchSize < hosts.length) {
        s.state = 'stopped';
        this.d.notice(`upgrade to ${s.version}: ${failures} host${failures === 1 ? '' : 's'} of the batch failed: the rollout stops`);
        break;
      }
    }
    if (s.state === 'running') s.state = 'done';
    s.finishedAt = this.d.now();
    this.save();
    for (const fn of this.listeners) fn(s.hosts[s.hosts.length - 1]!, s);
  }

  private set(s: RolloutStatus, h: HostProgress, step: HostStep, error?: { code: string; message: string }): void {
    h.step = step;
    h.at = this.d.now();
    if (step === 'sending') {
      h.sendingAt = h.at;
      delete h.sentAt;
    } else if (step === 'switching') h.sentAt = h.at;
    if (error) h.error = error;
    this.save();
    for (const fn of this.listeners) fn(h, s);
  }

  /** Resolves true at the agent's next hello, false after `ms`. */
  private async nextHello(agentId: string, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<boolean>((r) => this.helloWaits.set(agentId, () => r(true))),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); }),
      ]);
    } finally {
      clearTimeout(timer);
      this.helloWaits.delete(agentId);
    }
  }

  /** One host: true when it is on the new version at the end. */
  private async host(s: RolloutStatus, sig: SignedManifest, h: HostProgress): Promise<boolean> {
    const agent = { id: h.agentId, name: h.agent };
    const by = s.resumedBy ?? s.by;
    const fail = (err: unknown) => {
      const e = toWireError(err);
      this.d.state.record({ at: this.d.now(), event: 'upgrade', type: 'UPGRADE_FAILED', agent, from: h.from, to: s.version, by, reason: `${e.code}: ${e.message}` }, true);
      this.set(s, h, 'failed', e);
      return false;
    };
    if (UNFINISHED.has(h.step)) {
      const waitMs = this.d.waitMs ?? DEFAULT_UPGRADE_WAIT_MS;
      if (this.unjudged.has(h.agentId) && !(await this.nextHello(h.agentId, waitMs))) {
        this.unjudged.delete(h.agentId);
        return fail(new HwError('AGENT_OFFLINE', `it was ${h.step} when the manager stopped and has not come back within ${Math.round(waitMs / 1000)} s`));
      }
      if (h.step === 'done') return true;
    }
    // Resumed after a restart: a host may still be on its way back (its reconnect backoff).
    const reconnectMs = (s.resumedAt ?? -Infinity) + (this.d.reconnectMs ?? DEFAULT_RECONNECT_MS) - this.d.now();
    if (reconnectMs > 0 && !this.d.state.agent(h.agentId)?.online) await this.nextHello(h.agentId, reconnectMs);
    const rec = this.d.state.agent(h.agentId);
    if (rec?.version === s.version) {
      this.set(s, h, 'skipped');
      return true;
    }
    if (rec && (rec.platform !== sig.manifest.platform || rec.arch !== sig.manifest.arch)) {
      return fail(new HwError('UPGRADE_WRONG_PLATFORM', `the executable is for ${sig.manifest.platform}-${sig.manifest.arch}, the agent runs on ${rec.platform}-${rec.arch}`));
    }
    const link = this.d.link(h.agentId);
    if (!link || !rec?.online) return fail(new HwError('AGENT_OFFLINE', 'the agent is not connected'));
    if (rec.trust !== 'accepted') return fail(new HwError('PENDING', 'the agent is not accepted'));
    if (!this.features.get(h.agentId)) return fail(new HwError('UPGRADE_NOT_ALLOWED', 'the agent is too old to take upgrades from the manager'));
    this.d.state.record({ at: this.d.now(), event: 'upgrade', type: 'UPGRADE_STARTED', agent, from: h.from, to: s.version, by }, true);
    this.set(s, h, 'sending');
    let back: Promise<Result>;
    let timer: NodeJS.Timeout | undefined;
    back = new Promise((resolve) => {
      this.waiters.set(h.agentId, { version: s.version, done: resolve });
    });
    try {
      await this.d.sender.send(link, s.file, sig, by);
      this.set(s, h, 'switching');
      const waitMs = this.d.waitMs ?? DEFAULT_UPGRADE_WAIT_MS;
      back = Promise.race([back, new Promise<Result>((r) => {
        timer = setTimeout(() => r({ ok: false, code: 'TIMEOUT', reason: `not back on ${s.version} within ${Math.round(waitMs / 1000)} s` }), waitMs);
      })]);
      const r = await back;
      if (!r.ok) {
        if (r.code === 'UPGRADE_FAILED') {
          // the agent's own outcome is already in the record
          this.set(s, h, 'failed', { code: r.code, message: r.reason });
          return false;
        }
        return fail(new HwError(r.code as 'TIMEOUT', r.reason));
      }
      this.set(s, h, 'done');
      return true;
    } catch (err) {
      return fail(err);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(h.agentId);
    }
  }

  private save(): void {
    try {
      if (this.current) writeDurable(this.path, JSON.stringify(this.current) + '\n');
    } catch (err) {
      this.d.notice(`cannot write ${this.path}: ${(err as Error).message}`);
    }
  }
}
