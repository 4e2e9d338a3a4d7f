// A rollout: a signed executable sent to agents in batches. Each host of a batch is checked (online,
// understands upgrades, its hello's platform and arch those of the signature), sent the file
// (upgrade-sender.ts), then waited for until it says hello again on the new version (done) or
// reports a rollback, or the wait runs out (failed). A batch with more failures than allowed stops
// the rollout. Every step is in the record (UPGRADE_STARTED / UPGRADE_DONE / UPGRADE_FAILED, with
// who asked), and the rollout's progress is kept in <data-dir>/upgrade-rollout.json, so after a
// manager restart `upgrade status` shows where it stopped.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { HwError, toWireError } from '../errors.ts';
import { readState, writeDurable } from '../fs/durable.ts';
import { readSignature, type SignedManifest } from '../security/upgrade-sign.ts';
import { FEATURES, type Hello, type UpgradeOutcome } from '../wire/messages.ts';
import type { HostProgress, HostStep, RolloutStatus } from '../api/types.ts';
import type { AgentLink } from './agent-link.ts';
import type { AgentRecord, ManagerState } from './state.ts';
import type { UpgradeSender } from './upgrade-sender.ts';

export const ROLLOUT_FILE = 'upgrade-rollout.json';
/** How long a host has to come back on the new version after it took the file (its probation and more). */
export const DEFAULT_UPGRADE_WAIT_MS = 120_000;

// The status's shape is the API's (GET /api/upgrade): one type for the manager, the CLI and the page.
export type { HostProgress, HostStep, RolloutStatus };

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
}

type Waiter = (r: { ok: true } | { ok: false; code: string; reason: string }) => void;

export class Rollouts {
  private readonly d: RolloutDeps;
  private current: RolloutStatus | undefined;
  private running = false;
  private readonly features = new Map<string, boolean>();
  private readonly waiters = new Map<string, { version: string; done: Waiter }>();
  /** listeners of progress (the API's stream) */
  private readonly listeners = new Set<(h: HostProgress, s: RolloutStatus) => void>();

  constructor(d: RolloutDeps) {
    this.d = d;
    const saved = readState(this.path, (t) => JSON.parse(t) as RolloutStatus, 'delete it to forget the last rollout');
    if (saved?.state === 'running') saved.state = 'interrupted'; // the manager stopped during it: shown as where it stopped
    this.current = saved;
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
    const t = this.d.now();
    const n = req.targets.length;
    const batchSize = 'count' in req.batch ? req.batch.count : Math.max(1, Math.ceil((n * req.batch.percent) / 100));
    this.current = {
      by: req.by, file: req.file, version: sig.manifest.version, platform: sig.manifest.platform, arch: sig.manifest.arch, sha256: sig.manifest.sha256,
      batchSize, maxFailures: req.maxFailures, state: 'running', startedAt: t,
      hosts: req.targets.map((a) => ({ agent: a.name, agentId: a.id, step: 'waiting', from: a.version, at: t })),
    };
    this.running = true;
    this.save();
    const s = this.current;
    void this.run(s, sig, req.targets).catch((err) => {
      s.state = 'stopped';
      s.finishedAt = this.d.now();
      this.save();
      this.d.notice(`upgrade to ${s.version} stopped: ${(err as Error).message}`);
    }).finally(() => { this.running = false; });
    return this.current;
  }

  private async run(s: RolloutStatus, sig: SignedManifest, targets: AgentRecord[]): Promise<void> {
    for (let i = 0; i < targets.length; i += s.batchSize) {
      const batch = targets.slice(i, i + s.batchSize);
      const results = await Promise.all(batch.map((a) => this.host(s, sig, a)));
      const failures = results.filter((ok) => !ok).length;
      if (failures >= s.maxFailures && i + s.batchSize < targets.length) {
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
    if (error) h.error = error;
    this.save();
    for (const fn of this.listeners) fn(h, s);
  }

  /** One host: true when it is on the new version at the end. */
  private async host(s: RolloutStatus, sig: SignedManifest, a: AgentRecord): Promise<boolean> {
    const h = s.hosts.find((x) => x.agentId === a.id)!;
    const agent = { id: a.id, name: a.name };
    const fail = (err: unknown) => {
      const e = toWireError(err);
      this.d.state.record({ at: this.d.now(), event: 'upgrade', type: 'UPGRADE_FAILED', agent, from: h.from, to: s.version, by: s.by, reason: `${e.code}: ${e.message}` }, true);
      this.set(s, h, 'failed', e);
      return false;
    };
    const rec = this.d.state.agent(a.id);
    if (rec?.version === s.version) {
      this.set(s, h, 'skipped');
      return true;
    }
    if (rec && (rec.platform !== sig.manifest.platform || rec.arch !== sig.manifest.arch)) {
      return fail(new HwError('UPGRADE_WRONG_PLATFORM', `the executable is for ${sig.manifest.platform}-${sig.manifest.arch}, the agent runs on ${rec.platform}-${rec.arch}`));
    }
    const link = this.d.link(a.id);
    if (!link || !rec?.online) return fail(new HwError('AGENT_OFFLINE', 'the agent is not connected'));
    if (rec.trust !== 'accepted') return fail(new HwError('PENDING', 'the agent is not accepted'));
    if (!this.features.get(a.id)) return fail(new HwError('UPGRADE_NOT_ALLOWED', 'the agent is too old to take upgrades from the manager'));
    this.d.state.record({ at: this.d.now(), event: 'upgrade', type: 'UPGRADE_STARTED', agent, from: h.from, to: s.version, by: s.by }, true);
    this.set(s, h, 'sending');
    let back: Promise<{ ok: true } | { ok: false; code: string; reason: string }>;
    let timer: NodeJS.Timeout | undefined;
    back = new Promise((resolve) => {
      this.waiters.set(a.id, { version: s.version, done: resolve });
    });
    try {
      await this.d.sender.send(link, s.file, sig, s.by);
      this.set(s, h, 'switching');
      const waitMs = this.d.waitMs ?? DEFAULT_UPGRADE_WAIT_MS;
      back = Promise.race([back, new Promise<{ ok: false; code: string; reason: string }>((r) => {
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
      this.waiters.delete(a.id);
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
