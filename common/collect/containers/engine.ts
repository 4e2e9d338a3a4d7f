// The container engine as the agent uses it: locate it, list containers with their usage, read a
// container's logs, restart one. Each engine request is bounded in time and size (engine-http.ts).
// The engine's event stream (events.ts) says when something changed: while it is open, a
// container is inspected again only when an event named it (or its state moved), and the live
// reports' list is asked for again only after an event, or every LIST_MAX_AGE_MS; usage always
// comes from the cgroup files. Without the stream, every list inspects every container, as asked.

import { setTimeout as sleep } from 'node:timers/promises';
import { HwError, isHwError } from '../../errors.ts';
import { ENGINE_API, engineJson, engineRequest, engineMessage } from './engine-http.ts';
import { socketCandidates, whyUnreachable, type EngineEnv, type SocketCandidate } from './discover.ts';
import { readUsage, type CgroupDirCache, type CgroupPaths, type Usage } from './cgroup.ts';
import { EngineEvents } from './events.ts';
import { LogDecoder } from './log-stream.ts';
import type { ContainerLogsResult, ContainerRow, ContainersResult } from './types.ts';

export interface EngineOptions {
  /** where DOCKER_HOST, CONTAINER_HOST and XDG_RUNTIME_DIR are read (default process.env) */
  env?: EngineEnv;
  timeoutMs?: number;
  cgroup?: Partial<CgroupPaths>;
  /** containers inspected per list (health, restart count, usage); the rest are listed and counted */
  inspectMax?: number;
  /** rows in one answer */
  rowsMax?: number;
  /** false: live reports carry no containers (the commands still answer) */
  watch?: boolean;
  /** false: no event stream (every list inspects every container) */
  events?: boolean;
}

/** A container's name or id as the engine takes it. */
export const CONTAINER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const LIST_MAX_BYTES = 16 * 1024 * 1024;
const INSPECT_MAX_BYTES = 1024 * 1024;
const LOG_MAX_BYTES = 2 * 1024 * 1024;
/** a log line longer than this is cut: 1000 lines must fit one message */
const LOG_LINE_MAX = 400;
const INSPECT_PARALLEL = 4;
/** CPU % is the delta since the previous reading when it is this fresh; else over one short window */
const CPU_PREV_MS = { min: 500, max: 60_000 } as const;
const CPU_WINDOW_MS = 500;
const TEXT_MAX = 200;
/** With the event stream open, the engine's list is reused by the live reports for at most this long. */
const LIST_MAX_AGE_MS = 60_000;
/** ...and an inspected container's health, restart count and pid for at most this long. */
const INSPECT_MAX_AGE_MS = 60_000;

interface Inspected { health: string | null; restartCount: number | null; startedAt: string | null; pid: number; tty: boolean }

export class ContainerEngine {
  private readonly env: EngineEnv;
  private readonly timeoutMs: number;
  private readonly cg: CgroupPaths;
  private readonly inspectMax: number;
  private readonly rowsMax: number;
  private found: SocketCandidate | undefined;
  /** the previous CPU reading per container id: for CPU % as a delta */
  private readonly prev = new Map<string, { cpuNs: number; at: number }>();
  private readonly useEvents: boolean;
  private events: EngineEvents | undefined;
  private eventsPath = '';
  /** inspected containers by full id, trusted while the event stream is open and says nothing of them */
  private readonly inspected = new Map<string, Inspected & { state: string; at: number }>();
  /** the engine's last list and the event generation it was asked at */
  private lastList: { raw: unknown[]; at: number; gen: number } | undefined;
  private readonly dirs: CgroupDirCache = new Map();

  constructor(o: EngineOptions = {}) {
    this.env = o.env ?? process.env;
    this.timeoutMs = o.timeoutMs ?? 5_000;
    this.cg = { root: o.cgroup?.root ?? '/sys/fs/cgroup', proc: o.cgroup?.proc ?? '/proc' };
    this.inspectMax = o.inspectMax ?? 200;
    this.rowsMax = o.rowsMax ?? 1000;
    this.useEvents = o.events ?? true;
  }

  /** Closes the event stream (the agent stops). */
  close(): void {
    this.events?.close();
    this.events = undefined;
  }

  /** The event stream at the engine's socket, opened on first use and again when the socket changes. */
  private stream(path: string): EngineEvents | undefined {
    if (!this.useEvents) return undefined;
    if (this.events && this.eventsPath !== path) this.close();
    if (!this.events) {
      this.events = new EngineEvents({ socketPath: path });
      this.eventsPath = path;
    }
    return this.events;
  }

  /** The socket that answers /_ping; ENGINE_UNREACHABLE names every socket tried and why it failed. */
  async locate(): Promise<SocketCandidate> {
    if (this.found) return this.found;
    const tried: string[] = [];
    for (const c of socketCandidates(this.env)) {
      try {
        const a = await engineRequest({ socketPath: c.path, path: '/_ping', timeoutMs: this.timeoutMs, maxBytes: 1024 });
        if (a.status !== 200) throw new HwError('ENGINE_BAD_ANSWER', `answered /_ping with ${a.status}`);
        this.found = c;
        return c;
      } catch (err) {
        if (isHwError(err) && err.code !== 'ENGINE_UNREACHABLE') throw err;
        tried.push(`${c.path} (${c.from}): ${whyUnreachable((err as { cause?: NodeJS.ErrnoException }).cause?.code)}`);
      }
    }
    throw new HwError('ENGINE_UNREACHABLE', `no container engine reachable; tried ${tried.join('; ')}`);
  }

  private async get(path: string, maxBytes: number): Promise<unknown> {
    const at = await this.locate();
    try {
      return await engineJson({ socketPath: at.path, path: `${ENGINE_API}${path}`, timeoutMs: this.timeoutMs, maxBytes });
    } catch (err) {
      if (isHwError(err) && err.code === 'ENGINE_UNREACHABLE') this.found = undefined; // look again next time
      throw err;
    }
  }

  /**
   * The containers, with health, restart count and usage. `forReport` (the live reports): the
   * engine's previous list stands while the event stream is open, says nothing happened, and the
   * list is under LIST_MAX_AGE_MS old; and only the usage a report carries is read (CPU and memory
   * in use: no limit, block or network I/O).
   */
  async list(o: { forReport?: boolean } = {}): Promise<ContainersResult> {
    const events = this.stream((await this.locate()).path);
    const live = events?.live ?? false;
    const gen = events?.generation ?? -1;
    const t = performance.now();
    let raw: unknown;
    const last = this.lastList;
    if (o.forReport && live && last && last.gen === gen && t - last.at < LIST_MAX_AGE_MS) raw = last.raw;
    else {
      raw = await this.get('/containers/json?all=1', LIST_MAX_BYTES);
      if (Array.isArray(raw)) this.lastList = { raw, at: t, gen };
    }
    if (!Array.isArray(raw)) throw new HwError('ENGINE_BAD_ANSWER', 'the engine\'s container list is not a list');
    // What the stream named since the last list is inspected again; without the stream, all of it.
    const touched = events && live ? events.takeTouched() : 'all';
    if (touched === 'all') this.inspected.clear();
    else for (const id of touched) this.inspected.delete(id);
    const shown = raw.slice(0, this.rowsMax);
    const rows = shown.map((c) => baseRow(c));
    // Running ones first for the inspect budget: their usage is what is asked for.
    const order = rows.map((_r, i) => i).sort((a, b) => Number(rows[b]!.state === 'running') - Number(rows[a]!.state === 'running'));
    const inspectIdx = order.slice(0, this.inspectMax);
    const inspected = new Map<number, Inspected>();
    for (let i = 0; i < inspectIdx.length; i += INSPECT_PARALLEL) {
      await Promise.all(inspectIdx.slice(i, i + INSPECT_PARALLEL).map(async (idx) => {
        const fullId = String((shown[idx] as { Id?: unknown }).Id ?? '');
        const known = this.inspected.get(fullId);
        if (known && known.state === rows[idx]!.state && t - known.at < INSPECT_MAX_AGE_MS) {
          inspected.set(idx, known);
          return;
        }
        try {
          const ins = await this.inspect(fullId);
          inspected.set(idx, ins);
          this.inspected.set(fullId, { ...ins, state: rows[idx]!.state, at: performance.now() });
        } catch (err) {
          // removed between list and inspect: keep the row, say why
          rows[idx]!.reasons = { ...rows[idx]!.reasons, health: `not inspected: ${(err as Error).message}` };
        }
      }));
    }
    const usage = new Map<number, Usage>();
    const pids = new Map<number, number>();
    const readAt = new Map<number, number>();
    for (const [idx, ins] of inspected) {
      rows[idx]!.health = ins.health;
      rows[idx]!.restartCount = ins.restartCount;
      rows[idx]!.startedAt = ins.startedAt;
      if (ins.pid > 0) {
        pids.set(idx, ins.pid);
        usage.set(idx, await readUsage(ins.pid, this.cg, { cache: this.dirs, key: dirKey(shown[idx], ins.pid), reportOnly: !!o.forReport }));
        readAt.set(idx, performance.now());
      }
    }
    this.forget(shown);
    const cpuWindowMs = await this.cpu(rows, shown, usage, pids, readAt, !!o.forReport);
    for (const [idx, u] of usage) {
      const r = rows[idx]!;
      Object.assign(r, {
        memUsedBytes: u.memUsedBytes, memLimitBytes: u.memLimitBytes, netRxBytes: u.netRxBytes, netTxBytes: u.netTxBytes,
        blockReadBytes: u.blockReadBytes, blockWriteBytes: u.blockWriteBytes,
      });
      const reasons = Object.fromEntries(Object.entries(u.reasons).filter(([k]) => (r as unknown as Record<string, unknown>)[k] === null || (k === 'cpuNs' && r.cpuPercent === null)).map(([k, v]) => [k === 'cpuNs' ? 'cpuPercent' : k, v]));
      if (Object.keys(reasons).length) r.reasons = { ...r.reasons, ...reasons };
    }
    for (const [idx, r] of rows.entries()) {
      if (usage.has(idx)) continue;
      const why = r.state !== 'running' ? `not running (${r.state})` : inspected.has(idx) ? 'no process to read' : `not inspected (over ${this.inspectMax} a call)`;
      r.reasons = { ...r.reasons, usage: why };
    }
    return { engine: { socket: this.found?.path ?? '', from: this.found?.from ?? '' }, containers: rows, total: raw.length, notInspected: rows.length - inspected.size, cpuWindowMs };
  }

  /**
   * CPU % per running container: the delta since the previous list when that is fresh, else one
   * short window for all of them at once (one wait a call, never one a container).
   */
  private async cpu(rows: ContainerRow[], shown: unknown[], usage: Map<number, Usage>, pids: Map<number, number>, readAt: Map<number, number>, reportOnly: boolean): Promise<number | null> {
    const idOf = (idx: number) => String((shown[idx] as { Id?: unknown }).Id ?? '');
    const stale = [...usage.keys()].filter((idx) => {
      const p = this.prev.get(idOf(idx));
      const age = readAt.get(idx)! - (p?.at ?? -Infinity);
      return usage.get(idx)!.cpuNs !== null && !(age >= CPU_PREV_MS.min && age <= CPU_PREV_MS.max);
    });
    if (stale.length) {
      for (const idx of stale) this.prev.set(idOf(idx), { cpuNs: usage.get(idx)!.cpuNs!, at: readAt.get(idx)! });
      await sleep(CPU_WINDOW_MS);
      for (const idx of stale) {
        usage.set(idx, await readUsage(pids.get(idx)!, this.cg, { cache: this.dirs, key: dirKey(shown[idx], pids.get(idx)!), reportOnly }));
        readAt.set(idx, performance.now());
      }
    }
    let windowMs: number | null = null;
    const seen = new Set<string>();
    for (const [idx, u] of usage) {
      const id = idOf(idx);
      seen.add(id);
      const p = this.prev.get(id);
      const at = readAt.get(idx)!;
      if (u.cpuNs === null || p === undefined || u.cpuNs < p.cpuNs || at <= p.at) {
        u.reasons.cpuNs ??= u.cpuNs === null ? 'CPU time not readable' : 'no earlier reading to compare with';
        continue;
      }
      rows[idx]!.cpuPercent = Math.round(((u.cpuNs - p.cpuNs) / 1e6 / (at - p.at)) * 1000) / 10;
      windowMs = Math.max(windowMs ?? 0, Math.round(at - p.at));
      this.prev.set(id, { cpuNs: u.cpuNs, at });
    }
    for (const id of this.prev.keys()) if (!seen.has(id)) this.prev.delete(id);
    return windowMs;
  }

  /** Drops what is kept of containers no longer listed. */
  private forget(shown: unknown[]): void {
    const ids = new Set(shown.map((c) => String((c as { Id?: unknown }).Id ?? '')));
    for (const id of this.inspected.keys()) if (!ids.has(id)) this.inspected.delete(id);
    const keys = new Set(shown.map((c) => dirKey(c, this.inspected.get(String((c as { Id?: unknown }).Id ?? ''))?.pid ?? 0)));
    for (const k of this.dirs.keys()) if (!keys.has(k)) this.dirs.delete(k);
  }

  private async inspect(fullId: string): Promise<Inspected> {
    if (!/^[0-9a-f]{12,64}$/.test(fullId)) throw new HwError('ENGINE_BAD_ANSWER', 'a listed container has no id');
    const j = await this.get(`/containers/${fullId}/json`, INSPECT_MAX_BYTES) as Record<string, any>;
    const st = (j?.State ?? {}) as Record<string, any>;
    const h = st.Health?.Status;
    return {
      // No healthcheck: Docker leaves Health out (or says "none"), Podman sends Status "".
      health: typeof h === 'string' && h !== 'none' && h !== '' ? h.slice(0, 20) : null,
      restartCount: Number.isInteger(j?.RestartCount) ? j.RestartCount as number : null,
      startedAt: typeof st.StartedAt === 'string' && !st.StartedAt.startsWith('0001-') ? st.StartedAt.slice(0, 40) : null,
      pid: Number.isInteger(st.Pid) ? st.Pid as number : 0,
      tty: j?.Config?.Tty === true,
    };
  }

  /** The newest `lines` lines the container wrote (stdout and stderr, in order within each). */
  async logs(name: string, lines: number): Promise<ContainerLogsResult> {
    checkName(name);
    const at = await this.locate();
    const j = await this.get(`/containers/${encodeURIComponent(name)}/json`, INSPECT_MAX_BYTES) as Record<string, any>;
    const dec = new LogDecoder({ maxLines: lines, maxLine: LOG_LINE_MAX, multiplexed: j?.Config?.Tty !== true });
    let bad: unknown;
    const a = await engineRequest({
      socketPath: at.path, path: `${ENGINE_API}/containers/${encodeURIComponent(name)}/logs?stdout=1&stderr=1&tail=${lines}`,
      timeoutMs: this.timeoutMs, maxBytes: LOG_MAX_BYTES,
      onChunk: (c) => {
        try {
          dec.push(c);
          return true;
        } catch (err) {
          bad = err;
          return false;
        }
      },
    });
    if (bad) throw bad;
    if (a.status === 404) throw new HwError('CONTAINER_NOT_FOUND', `no container ${name}`);
    if (a.status !== 200) throw new HwError('ENGINE_ERROR', `the engine answered ${a.status} for the logs of ${name}`);
    // Control characters would come out as \u escapes six bytes each: shown as '?'.
    // eslint-disable-next-line no-control-regex
    const out = dec.end().map((l) => ({ stream: l.stream, text: l.text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?') }));
    return { name, lines: out, cut: a.cut };
  }

  /** Restarts a container (the engine stops it, waiting up to 10 s, then starts it). */
  async restart(name: string): Promise<{ restarted: string }> {
    checkName(name);
    const at = await this.locate();
    const a = await engineRequest({
      socketPath: at.path, method: 'POST', path: `${ENGINE_API}/containers/${encodeURIComponent(name)}/restart?t=10`,
      timeoutMs: this.timeoutMs + 10_000, maxBytes: 64 * 1024,
    });
    if (a.status === 404) throw new HwError('CONTAINER_NOT_FOUND', `no container ${name}`);
    if (a.status !== 204 && a.status !== 200) throw new HwError('ENGINE_ERROR', `the engine answered ${a.status}: ${engineMessage(a.body.toString('utf8')) ?? ''}`);
    // The engine's events of it may come after the next list: what is kept is asked again.
    this.inspected.clear();
    this.lastList = undefined;
    return { restarted: name };
  }
}

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || !CONTAINER_NAME_RE.test(name)) throw new HwError('BAD_ARGS', 'a container is named by its name or id (letters, digits, _ . -, at most 128)');
  return name;
}

/** A container's cgroup folders are known by its id and its main process. */
function dirKey(c: unknown, pid: number): string {
  return `${String((c as { Id?: unknown }).Id ?? '')}:${pid}`;
}

function cut(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, TEXT_MAX) : '';
}

function baseRow(c: unknown): ContainerRow {
  if (typeof c !== 'object' || c === null) throw new HwError('ENGINE_BAD_ANSWER', 'a listed container is not an object');
  const o = c as Record<string, unknown>;
  const names = Array.isArray(o.Names) ? o.Names : [];
  return {
    id: cut(o.Id).slice(0, 12), name: cut(names[0]).replace(/^\//, ''), image: cut(o.Image), state: cut(o.State), status: cut(o.Status),
    health: null, restartCount: null, startedAt: null, cpuPercent: null, memUsedBytes: null, memLimitBytes: null,
    netRxBytes: null, netTxBytes: null, blockReadBytes: null, blockWriteBytes: null,
  };
}
