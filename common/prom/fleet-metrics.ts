// What `/metrics` says: every accepted agent's latest report as hostwatch_* series labelled
// `agent` and `agent_id`, and (for the whole-fleet scrape) the manager's own hostwatch_manager_*
// and process metrics. Read through ManagerState and the manager's figures only.

import type { ManagerFigures } from '../manager/manager.ts';
import type { AgentRecord, ManagerState } from '../manager/state.ts';
import { ALERT_NAMES, type FiringSet } from '../notify/alert-names.ts';
import { Exposition } from './exposition.ts';
import { addProcessMetrics } from './process-metrics.ts';

/** What the notifier tells /metrics about each destination. */
export interface DestinationFigures {
  name: string;
  kind: string;
  url: string;
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
}

export interface MetricsSource {
  state: ManagerState;
  /** the manager's own figures (what a test or a bench gives may be partial: what is missing is not printed) */
  figures(): Partial<ManagerFigures>;
  firing: FiringSet;
  destinations?: () => DestinationFigures[];
}

function declareAgentFamilies(e: Exposition): void {
  e.family('hostwatch_container_up', 'gauge', 'Whether the container is running (1) or not (0), by container and image; only from agents that report containers.');
  e.family('hostwatch_container_healthy', 'gauge', 'The container\'s healthcheck: 1 healthy, 0 unhealthy or starting; absent without a healthcheck.');
  e.family('hostwatch_container_restarts', 'gauge', 'Restarts by the container\'s restart policy (the engine sets it back to 0 on a manual restart).');
  e.family('hostwatch_container_cpu_usage_ratio', 'gauge', 'The container\'s CPU use in cores (1 = one core busy), as docker stats shows it divided by 100.');
  e.family('hostwatch_container_memory_used_bytes', 'gauge', 'The container\'s memory use without inactive file pages, as docker stats.');
  e.family('hostwatch_agent_up', 'gauge', 'Whether the agent is connected to the manager now (1) or not (0).');
  e.family('hostwatch_agent_info', 'gauge', 'Static facts about the agent, as labels; always 1.');
  e.family('hostwatch_agent_last_report_timestamp_seconds', 'gauge', 'When the agent measured its latest report, in seconds since the epoch.');
  e.family('hostwatch_agent_report_interval_seconds', 'gauge', 'The agent\'s report interval in seconds.');
  e.family('hostwatch_cpu_usage_ratio', 'gauge', 'CPU busy over the last report interval, all cores, 0 to 1.');
  e.family('hostwatch_memory_total_bytes', 'gauge', 'Physical memory in bytes.');
  e.family('hostwatch_memory_available_bytes', 'gauge', 'Memory available to new programs without swapping, in bytes (MemAvailable).');
  e.family('hostwatch_memory_used_ratio', 'gauge', 'Used memory, (total - available) / total, 0 to 1.');
  e.family('hostwatch_filesystem_size_bytes', 'gauge', 'Size of the filesystem in bytes, by mount point (only the root filesystem or system drive from an agent that reports no mounts).');
  e.family('hostwatch_filesystem_avail_bytes', 'gauge', 'Bytes of the filesystem available to unprivileged users, as df\'s Avail.');
  e.family('hostwatch_filesystem_used_ratio', 'gauge', 'Used space of the filesystem, 0 to 1, rounded as df shows it.');
  e.family('hostwatch_network_receive_bytes_total', 'counter', 'Bytes received since boot.');
  e.family('hostwatch_network_transmit_bytes_total', 'counter', 'Bytes sent since boot.');
  e.family('hostwatch_uptime_seconds', 'gauge', 'Seconds since the host booted.');
  e.family('hostwatch_processes', 'gauge', 'Processes running on the host.');
  e.family('hostwatch_load1', 'gauge', 'One-minute load average (Linux).');
  e.family('hostwatch_alerts_firing', 'gauge', 'Whether the alert fires on the agent now (1) or not (0), by alertname.');
}

/** The host's labels (role=db) on hostwatch_agent_info as label_role="db", as kube-state-metrics does. */
function promLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) out[`label_${k.replace(/[^A-Za-z0-9_]/g, '_')}`] = v;
  return out;
}

function addAgent(e: Exposition, a: AgentRecord, firing: FiringSet): void {
  const l = { agent: a.name, agent_id: a.id };
  e.sample('hostwatch_agent_up', l, a.online ? 1 : 0);
  e.sample('hostwatch_agent_info', { ...l, hostname: a.hostname, platform: a.platform, arch: a.arch, version: a.version, ...promLabels(a.labels) }, 1);
  e.sample('hostwatch_agent_last_report_timestamp_seconds', l, a.metricsAt === null ? null : a.metricsAt / 1000);
  e.sample('hostwatch_agent_report_interval_seconds', l, a.interval || null);
  const names = new Set<string>([...ALERT_NAMES, ...firing.namesFor(a.id)]);
  for (const n of names) e.sample('hostwatch_alerts_firing', { ...l, alertname: n }, firing.isFiring(a.id, n) ? 1 : 0);
  const m = a.metrics;
  if (!m) return;
  const ratio = (p: number | null | undefined) => (typeof p === 'number' ? Math.round(p * 10) / 1000 : null);
  e.sample('hostwatch_cpu_usage_ratio', l, ratio(m.cpuPercent));
  e.sample('hostwatch_memory_total_bytes', l, m.memTotalBytes);
  e.sample('hostwatch_memory_available_bytes', l, m.memAvailableBytes);
  e.sample('hostwatch_memory_used_ratio', l, ratio(m.memPercent));
  if (a.mounts.length) addMounts(e, l, a);
  else {
    // An agent that sends no mounts: its root filesystem (system drive) from the headline fields.
    const fsl = { ...l, mountpoint: a.platform === 'win32' ? 'C:' : '/' };
    e.sample('hostwatch_filesystem_size_bytes', fsl, m.diskSizeBytes);
    e.sample('hostwatch_filesystem_avail_bytes', fsl, m.diskAvailBytes);
    e.sample('hostwatch_filesystem_used_ratio', fsl, ratio(m.diskPercent));
  }
  if (a.interfaces.length) {
    // An interface reported twice is shown once, as with mounts: a duplicate series fails the scrape.
    const seen = new Set<string>();
    for (const i of a.interfaces) {
      if (seen.has(i.name)) continue;
      seen.add(i.name);
      e.sample('hostwatch_network_receive_bytes_total', { ...l, device: i.name }, i.rxBytes);
      e.sample('hostwatch_network_transmit_bytes_total', { ...l, device: i.name }, i.txBytes);
    }
  } else {
    // An agent that sends only totals: all interfaces but loopback as one device.
    e.sample('hostwatch_network_receive_bytes_total', { ...l, device: 'all' }, m.netRxBytes);
    e.sample('hostwatch_network_transmit_bytes_total', { ...l, device: 'all' }, m.netTxBytes);
  }
  e.sample('hostwatch_uptime_seconds', l, m.uptimeSeconds);
  e.sample('hostwatch_processes', l, m.processCount);
  if (a.online) addContainers(e, l, a);
  e.sample('hostwatch_load1', l, m.load1);
}

/**
 * One series per mount, labelled `mountpoint` and `fstype` as node_exporter does. A drive keeps the
 * name the fallback uses (`C:`, not `C:\\`). A mount point reported twice is shown once: a duplicate
 * series would make Prometheus reject the whole scrape. An older agent's mount has no type (fstype
 * is "", which PromQL treats as absent) and no available bytes (that series is left out).
 */
function addMounts(e: Exposition, l: { agent: string; agent_id: string }, a: AgentRecord): void {
  const seen = new Set<string>();
  for (const mt of a.mounts) {
    const mountpoint = a.platform === 'win32' ? mt.mount.replace(/^([A-Za-z]:)\\$/, '$1') : mt.mount;
    if (seen.has(mountpoint)) continue;
    seen.add(mountpoint);
    const fsl = { ...l, mountpoint, fstype: mt.type ?? '' };
    e.sample('hostwatch_filesystem_size_bytes', fsl, mt.size);
    e.sample('hostwatch_filesystem_avail_bytes', fsl, mt.available);
    e.sample('hostwatch_filesystem_used_ratio', fsl, mt.percent / 100);
  }
}

/** One agent's series (for a scrape with ?agent=<id>, as /sd hands out). */
export function agentExposition(src: MetricsSource, agent: AgentRecord): string {
  const e = new Exposition();
  declareAgentFamilies(e);
  addAgent(e, agent, src.firing);
  return e.text();
}

/** Every accepted agent's series, then the manager's own. */
export function fleetExposition(src: MetricsSource): string {
  const e = new Exposition();
  declareAgentFamilies(e);
  for (const a of src.state.agents()) addAgent(e, a, src.firing);
  addManagerMetrics(e, src);
  return e.text();
}

/** Agents rendered between two yields to the event loop (about 20 ms of work on a slow core). */
const AGENTS_PER_SLICE = 500;

/**
 * The same, yielding to the event loop every few hundred agents: a 10,000-agent scrape takes a few
 * hundred ms, and agents' reports, acks and heartbeats must not wait behind it.
 */
export async function fleetExpositionSliced(src: MetricsSource): Promise<string> {
  const e = new Exposition();
  declareAgentFamilies(e);
  const list = src.state.agents();
  for (let i = 0; i < list.length; i++) {
    addAgent(e, list[i]!, src.firing);
    if (i % AGENTS_PER_SLICE === AGENTS_PER_SLICE - 1) await new Promise((r) => setImmediate(r));
  }
  addManagerMetrics(e, src);
  return e.text();
}

function addManagerMetrics(e: Exposition, src: MetricsSource): void {
  const s = src.figures();
  const g = (name: string, help: string, v: number | undefined) => e.family(name, 'gauge', help).sample(name, {}, v);
  const c = (name: string, help: string, v: number | undefined) => e.family(name, 'counter', help).sample(name, {}, v);
  g('hostwatch_manager_agents_connected', 'Accepted agents connected now.', s.agentsOnline);
  g('hostwatch_manager_agents_known', 'Accepted agents, connected or not.', s.agentsKnown);
  g('hostwatch_manager_agents_pending', 'Agents waiting to be accepted.', s.agentsPending);
  g('hostwatch_manager_connections', 'Open agent connections, handshakes included.', s.connections);
  c('hostwatch_manager_reports_ingested_total', 'Reports received from agents since the manager started.', s.reportsIngested);
  c('hostwatch_manager_backfilled_reports_total', 'Reports that arrived late, sent from an agent\'s backlog.', s.backfilledReports);
  c('hostwatch_manager_alerts_ingested_total', 'Alerts received from agents since the manager started (duplicates not counted).', s.alertsIngested);
  e.family('hostwatch_manager_samples_lost_total', 'counter', 'Samples lost since start: told by agents (their spool past its bound, a failing disk) or dropped by the manager (an older agent\'s past the history\'s bound).');
  e.sample('hostwatch_manager_samples_lost_total', { by: 'agent' }, s.samples?.lostByAgents);
  e.sample('hostwatch_manager_samples_lost_total', { by: 'manager' }, s.samples?.droppedByManager);
  e.family('hostwatch_manager_dropped_datagrams_total', 'counter', 'UDP datagrams dropped, by reason.');
  for (const [reason, n] of Object.entries(s.droppedDatagrams ?? {})) e.sample('hostwatch_manager_dropped_datagrams_total', { reason }, n);
  const sec = (ms: number | undefined) => (typeof ms === 'number' ? Math.round(ms * 1000) / 1e6 : undefined);
  g('hostwatch_manager_event_loop_delay_p50_seconds', 'Median event loop delay since start.', sec(s.eventLoopDelayMs?.p50));
  g('hostwatch_manager_event_loop_delay_p99_seconds', '99th percentile of the event loop delay since start.', sec(s.eventLoopDelayMs?.p99));
  g('hostwatch_manager_event_loop_delay_max_seconds', 'Largest event loop delay since start.', sec(s.eventLoopDelayMs?.max));
  const dests = src.destinations?.() ?? [];
  if (dests.length) {
    e.family('hostwatch_manager_notify_queued', 'gauge', 'Items in the outbox not yet delivered, by destination.');
    e.family('hostwatch_manager_notify_sent_total', 'counter', 'Successful deliveries, by destination.');
    e.family('hostwatch_manager_notify_failures_total', 'counter', 'Failed delivery attempts (retried), by destination.');
    e.family('hostwatch_manager_notify_dropped_total', 'counter', 'Items dropped undelivered because the outbox was full, by destination.');
    for (const d of dests) {
      const l = { destination: d.name, kind: d.kind, url: d.url };
      e.sample('hostwatch_manager_notify_queued', l, d.queued);
      e.sample('hostwatch_manager_notify_sent_total', l, d.sent);
      e.sample('hostwatch_manager_notify_failures_total', l, d.failed);
      e.sample('hostwatch_manager_notify_dropped_total', l, d.dropped);
    }
  }
  addProcessMetrics(e);
}

function addContainers(e: Exposition, l: { agent: string; agent_id: string }, a: AgentRecord): void {
  const seen = new Set<string>();
  for (const c of a.containers ?? []) {
    if (seen.has(c.name)) continue; // a duplicate series would fail the whole scrape
    seen.add(c.name);
    const cl = { ...l, container: c.name, image: c.image };
    e.sample('hostwatch_container_up', cl, c.state === 'running' ? 1 : 0);
    if (c.health !== null) e.sample('hostwatch_container_healthy', cl, c.health === 'healthy' ? 1 : 0);
    e.sample('hostwatch_container_restarts', cl, c.restartCount);
    e.sample('hostwatch_container_cpu_usage_ratio', cl, c.cpuPercent === null ? null : c.cpuPercent / 100);
    e.sample('hostwatch_container_memory_used_bytes', cl, c.memUsedBytes);
  }
}
