// What the pages show, in one place: agents, alerts, sparklines, each agent's meter lines, the manager's
// version and its last rollout, loaded from the API once and kept current by the event stream. The
// stream is closed while the tab is hidden (a background tab costs nothing) and the snapshot
// reloaded when it is shown again or reconnects.

import { api } from './api.ts';
import type { Metric } from '../common/rules/rule.ts';
import type { Agent, AgentLimits, Alert, CommandEvent, FleetLimits, RolloutStatus, Version } from './types.ts';

type Listener = { sparks?: () => void; /** the meter lines, after a change */ rules?: () => void; rollout?: () => void; agents?: (ids: string[]) => void; alert?: (a: Alert) => void; command?: (e: CommandEvent) => void; reset?: () => void; status?: (live: boolean) => void };

const SPARK_POINTS = 60;
const NONE: Alert[] = [];
/** While a rollout runs, its status is asked this often (steps between the stream's events). */
const ROLLOUT_POLL_MS = 3000;

class Store {
  readonly agents = new Map<string, Agent>();
  alerts: Alert[] = [];
  /** agent id -> CPU averages over the last hour, one a minute */
  readonly sparks = new Map<string, (number | null)[]>();
  private lastSparkMinute = new Map<string, number>();
  /** the manager's version (null until known) */
  managerVersion: string | null = null;
  /** what the meters are coloured by (GET /api/limits); undefined until loaded */
  private limits: FleetLimits | undefined;
  /** agent id and mount the lines were asked again for (a mount the last answer did not know): once each */
  private readonly askedMounts = new Set<string>();
  /** the manager's last rollout (null: none) */
  rollout: RolloutStatus | null = null;
  private rulesTimer: ReturnType<typeof setTimeout> | undefined;
  private rolloutTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<Listener>();
  private source: EventSource | undefined;
  private loaded = false;
  /** the stream was closed (hidden tab): what it missed is reloaded when it opens again */
  private stale = false;
  live = false;

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private watching = false;

  async start(): Promise<void> {
    if (!this.watching) {
      this.watching = true;
      document.addEventListener('visibilitychange', () => (document.hidden ? this.stopStream() : this.startStream()));
    }
    await this.reload();
    if (!document.hidden) this.startStream();
  }

  stop(): void {
    this.stopStream();
    clearTimeout(this.rolloutTimer);
    this.rolloutTimer = undefined;
    this.loaded = false;
  }

  /** The whole snapshot again (after a reconnect: what the stream missed). */
  async reload(): Promise<void> {
    // The sparklines follow when they come: the rows do not wait for them.
    const sparks = api<{ agents: Record<string, (number | null)[]> }>(`/api/sparklines?minutes=60&points=${SPARK_POINTS}`);
    sparks.catch(() => {});
    // The meter lines and the version are small: the rows wait for them and are drawn in their
    // colours once, rather than drawn, then coloured and laid out again. Without them (a manager
    // that does not answer) the rows are drawn anyway, and the lines asked again.
    const [agents, pending, alerts, active, limits, version] = await Promise.all([
      api<Agent[]>('/api/agents'), api<Agent[]>('/api/pending'), api<Alert[]>('/api/alerts'), api<Alert[]>('/api/alerts?active=1'),
      api<FleetLimits>('/api/limits').catch(() => undefined), api<Version>('/api/version').catch(() => null),
    ]);
    this.agents.clear();
    for (const a of [...agents, ...pending]) this.agents.set(a.id, a);
    this.alerts = alerts;
    this.setActive(active);
    if (limits) this.limits = limits;
    if (version) this.managerVersion = version.version;
    this.loaded = true;
    for (const l of this.listeners) l.reset?.();
    if (!limits) this.loadRules();
    this.loadRollout();
    void sparks.then((r) => {
      const minute = Math.floor(Date.now() / 60_000);
      for (const [id, s] of Object.entries(r.agents)) {
        // Keep what the stream added meanwhile in the newest minute.
        const live = this.sparks.get(id)?.[SPARK_POINTS - 1];
        if (typeof live === 'number' && s[SPARK_POINTS - 1] === null) s[SPARK_POINTS - 1] = live;
        this.sparks.set(id, s);
        this.lastSparkMinute.set(id, minute);
      }
      for (const l of this.listeners) l.sparks?.();
    }, () => {});
  }

  /** Alerts firing now on an agent, as the manager computed them (GET /api/alerts?active=1). */
  activeAlerts(id: string): Alert[] {
    return this.active.get(id) ?? NONE;
  }

  private active = new Map<string, Alert[]>();
  private activeTimer: ReturnType<typeof setTimeout> | undefined;

  private setActive(list: Alert[]): void {
    const next = new Map<string, Alert[]>();
    for (const a of list) {
      let firing = next.get(a.agentId);
      if (!firing) next.set(a.agentId, (firing = []));
      firing.push(a);
    }
    this.active = next;
  }

  /** An agent's meter lines: null when the manager sets it no rules; undefined until known. */
  limitsOf(id: string): AgentLimits | null | undefined {
    const i = this.limits?.agents[id];
    return i === undefined ? undefined : this.limits!.sets[i];
  }

  /** A rule's metric, by its name (undefined until loaded, or for a rule the manager does not set). */
  ruleMetric(name: string | undefined): Metric | undefined {
    return name === undefined ? undefined : this.limits?.metrics[name];
  }

  /**
   * The lines every agent's meters are judged against again (GET /api/limits, worked out by the
   * manager: not the whole rules), after the rules or a mount changed; pages are told when they come.
   */
  private loadRules(): void {
    clearTimeout(this.rulesTimer);
    this.rulesTimer = undefined;
    void api<FleetLimits>('/api/limits').then((limits) => {
      this.limits = limits;
      for (const l of this.listeners) l.rules?.();
    }, () => {});
  }

  /** A mount the agent's lines do not name (it came after them): asked again, once for it. */
  private newMount(a: Agent): boolean {
    const set = this.limitsOf(a.id);
    if (!set || !a.mounts) return false;
    let ask = false;
    for (const m of a.mounts) {
      const key = `${a.id}\0${m.mount}`;
      if (m.mount in set.disk || this.askedMounts.has(key) || this.askedMounts.size >= 10_000) continue;
      this.askedMounts.add(key);
      ask = true;
    }
    return ask;
  }

  /** The last rollout (GET /api/upgrade); asked again every few seconds while it runs. */
  private loadRollout(): void {
    clearTimeout(this.rolloutTimer);
    this.rolloutTimer = undefined;
    void api<RolloutStatus | null>('/api/upgrade').then((s) => {
      this.rollout = s;
      for (const l of this.listeners) l.rollout?.();
      // A hidden tab asks nothing: showing it again reloads the snapshot, the rollout with it.
      if (s?.state === 'running' && this.loaded && !document.hidden) this.rolloutTimer = setTimeout(() => this.loadRollout(), ROLLOUT_POLL_MS);
    }, () => {});
  }

  /** After a burst of alerts, one fresh answer from the manager (not one per alert). */
  private refreshActive(): void {
    if (this.activeTimer) return;
    this.activeTimer = setTimeout(() => {
      this.activeTimer = undefined;
      void api<Alert[]>('/api/alerts?active=1').then((list) => {
        const before = this.active;
        this.setActive(list);
        const ids = [...new Set([...before.keys(), ...this.active.keys()])];
        for (const l of this.listeners) l.agents?.(ids);
      }, () => {});
    }, 300);
  }

  private startStream(): void {
    if (this.source || !this.loaded) return;
    const es = new EventSource('/api/web/events');
    this.source = es;
    let first = true;
    es.onopen = () => {
      this.setLive(true);
      // A reconnect, or a tab shown again: reload what changed meanwhile. The very first open
      // follows a fresh load.
      if (!first || this.stale) void this.reload().catch(() => {});
      first = false;
      this.stale = false;
    };
    es.onerror = () => this.setLive(false);
    es.addEventListener('agents', (ev) => {
      const rows = JSON.parse((ev as MessageEvent).data) as Agent[];
      const minute = Math.floor(Date.now() / 60_000);
      for (const a of rows) {
        const old = this.agents.get(a.id);
        if (old?.interfaces && !a.interfaces) a.interfaces = old.interfaces;
        // A reload changed its rules (the agent reports the new set), a new agent, or a new mount: ask once for all.
        if (a.trust === 'accepted' && (!old || old.rulesVersion !== a.rulesVersion || this.newMount(a))) this.rulesTimer ??= setTimeout(() => this.loadRules(), 500);
        this.agents.set(a.id, a);
        this.addSpark(a, minute);
      }
      const ids = rows.map((r) => r.id);
      for (const l of this.listeners) l.agents?.(ids);
    });
    es.addEventListener('removed', (ev) => {
      const { id } = JSON.parse((ev as MessageEvent).data) as { id: string };
      this.agents.delete(id);
      for (const l of this.listeners) l.agents?.([id]);
    });
    es.addEventListener('alert', (ev) => {
      const a = JSON.parse((ev as MessageEvent).data) as Alert;
      if (this.alerts.length && this.alerts[this.alerts.length - 1]!.n >= a.n) return;
      this.alerts.push(a);
      this.refreshActive();
      if (this.alerts.length > 10_000) this.alerts.splice(0, this.alerts.length - 10_000);
      for (const l of this.listeners) l.alert?.(a);
    });
    // A rollout's host changed step: the status is asked again (once for a burst of steps).
    es.addEventListener('upgrade', () => {
      if (!this.rolloutTimer || this.rollout?.state !== 'running') {
        clearTimeout(this.rolloutTimer);
        this.rolloutTimer = setTimeout(() => this.loadRollout(), 300);
      }
    });
    es.addEventListener('command', (ev) => {
      const e = JSON.parse((ev as MessageEvent).data) as CommandEvent;
      for (const l of this.listeners) l.command?.(e);
    });
  }

  private stopStream(): void {
    if (this.source) this.stale = true;
    this.source?.close();
    this.source = undefined;
    this.setLive(false);
  }

  private setLive(v: boolean): void {
    if (this.live === v) return;
    this.live = v;
    for (const l of this.listeners) l.status?.(v);
  }

  /** The sparkline's last minute follows the reports; a new minute shifts it left. */
  private addSpark(a: Agent, minute: number): void {
    const cpu = a.metrics?.cpuPercent;
    if (typeof cpu !== 'number' || a.trust !== 'accepted') return;
    let s = this.sparks.get(a.id);
    if (!s) this.sparks.set(a.id, (s = new Array(SPARK_POINTS).fill(null)));
    const last = this.lastSparkMinute.get(a.id) ?? minute;
    const shift = Math.min(SPARK_POINTS, minute - last);
    for (let i = 0; i < shift; i++) {
      s.shift();
      s.push(null);
    }
    this.lastSparkMinute.set(a.id, minute);
    const prev = s[SPARK_POINTS - 1];
    s[SPARK_POINTS - 1] = prev === null || prev === undefined ? cpu : (prev + cpu) / 2;
  }
}

export const store = new Store();
