// The API's JSON, one type per shape: the manager builds these, the CLI and the browser code read
// them. Type-only: nothing here runs, so the browser bundle may import it as well.

import type { AlertTop } from '../collect/types.ts';
/** GET /api/agents/:agent/top: the agent's answer; `command` is null for viewers (unavailable.command says why). */
export type { ProcessRow, ProcessSort, TopProcesses } from '../collect/types.ts';
import type { ProcessRow } from '../collect/types.ts';
import type { Metric, Rule } from '../rules/rule.ts';
export type { AlertTop };

export interface Mount {
  mount: string;
  /** null from agents older than per-mount types */
  type: string | null;
  size: number;
  used: number;
  available: number | null;
  percent: number;
}

export interface Interface {
  name: string;
  rxBytes: number;
  txBytes: number;
  rxRate: number | null;
  txRate: number | null;
}

/** GET /api/agents (one entry), GET /api/agents/:agent (with interfaces), `agents --json`. */
export interface Agent {
  id: string;
  name: string;
  hostname: string;
  address: string;
  platform: string;
  version: string;
  online: boolean;
  restarting: boolean;
  down: boolean;
  trust: 'accepted' | 'pending';
  fingerprint: string;
  lastSeen: string | null;
  connectedAt: string | null;
  interval: number;
  // Open-ended: an agent may report more readings than this manager knows.
  metrics: Record<string, any>;
  /** the version of the rules the agent says it runs ('' its own flags; null: too old for rules) */
  rulesVersion: string | null;
  labels?: Record<string, string>;
  interfaces?: Interface[];
  /** the newest report's mounts */
  mounts?: Mount[];
  /** samples that never reached its history (the agent's spool past its bound, a failing disk...): the total, the latest reason and when */
  samplesLost?: { count: number; reason: string; at: string };
}

/** GET /api/alerts, /api/alerts/follow (one line each), the dashboard's `alert` event. */
export interface Alert {
  agent: string;
  agentId: string;
  type: string;
  value: number;
  threshold?: number;
  at: string;
  seq: number;
  n: number;
  via: string;
  rule?: string;
  state?: 'firing' | 'resolved';
  severity?: 'warning' | 'critical';
  labels?: Record<string, string>;
  /** the id of the silence that held back its notification */
  silenced?: string;
  /** the processes the agent named as the cause when it fired (cpu, memory, processes rules) */
  top?: AlertTop[];
}

/** The dashboard's `command` event: a command someone ran, as recorded. */
export interface CommandEvent {
  at: number;
  event: 'command';
  agent: { id: string; name: string };
  cmd: string;
  args: Record<string, unknown>;
  by: string;
  ok: boolean;
  error?: { code: string; message: string };
  sha256?: string;
  bytes?: number;
}

/** Every error answer: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Which agents: exactly one of the three. */
export interface Selection {
  /** a name, id or IP (one agent), or a glob or label=value (any number) */
  selector?: string;
  /** label=value */
  label?: string;
  all?: boolean;
}

/** POST /api/jobs: which agents, what to run on them. */
export interface JobRequest extends Selection {
  cmd: 'status' | 'procs' | 'logs' | 'restart' | 'top';
  args: Record<string, unknown>;
  parallel: number;
  /** seconds */
  timeout?: number;
}

/** One line of POST /api/jobs per host as it answers. */
export interface JobResult {
  agent: string;
  agentId: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

/** The last line of POST /api/jobs. */
export interface JobSummary {
  total: number;
  ok: number;
  failed: number;
  offline: number;
  timeout: number;
}

/** POST /api/pending/reject: one pending agent, those from an IP or CIDR range, or all. */
export type RejectSelection = { agent: string } | { address: string } | { all: true };

/** POST /api/silences. */
export interface SilenceRequest {
  selector: string;
  /** seconds */
  forS: number;
  rule?: string;
  reason?: string;
}

/** GET /api/silences (one entry), POST /api/silences, DELETE /api/silences/:id. */
export interface Silence {
  id: string;
  selector: string;
  rule?: string;
  reason?: string;
  by: string;
  createdAt: string;
  until: string;
}

/** GET /api/web/me: who the page is signed in as. */
export interface Me {
  user: string;
  role: 'admin' | 'viewer';
  csrf: string;
  idleSecondsLeft?: number;
}

/** GET /api/stats: what came in since start, who is here, the disk, the loop's delay, the memory. */
export interface Stats {
  startedAt: string;
  uptimeSeconds: number;
  agentsKnown: number;
  agentsOnline: number;
  agentsPending: number;
  connections: number;
  handshaking: number;
  reportsIngested: number;
  backfilledReports: number;
  alertsIngested: number;
  droppedDatagrams: Record<string, number>;
  storage: {
    ok: boolean; error: string | null; failingSince: string | null;
    heldRecords: number; heldBytes: number; droppedRecords: number; agentsFileSaved: boolean;
  };
  history: Record<string, number | string | null>;
  /**
   * Samples lost since start, as agents told (their spool past its bound, a failing disk) and as
   * dropped here (an older agent's past the history's bound, or older than every tier); and the
   * numbered samples taken and waiting for the history's write before they are acknowledged.
   */
  samples: { lostByAgents: number; droppedByManager: number; awaitingAck: number };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** the notification destinations (null without any) */
  notify?: unknown;
}

/** GET /api/version. */
export interface Version {
  version: string;
}

/** One point of GET /api/agents/:agent/history: the time, each headline series, and min/max/samples when aggregated. */
export type HistoryPoint = Record<string, unknown> & { at: string };

/** A mount's or an interface's own points (with `series=all`). */
export interface HistoryDetail {
  mount?: string;
  name?: string;
  points?: HistoryPoint[];
}

/** GET /api/agents/:agent/history, `history --json`. */
export interface History {
  agent: string;
  agentId: string;
  interval: number;
  from: string;
  to: string;
  /** the tier that answered: raw, minute or hour */
  tier: string;
  /** ms between points (0 for raw samples) */
  step: number;
  points: HistoryPoint[];
  mounts?: HistoryDetail[];
  interfaces?: HistoryDetail[];
}

/** One service: a systemd unit (Linux) or a Windows service. */
export interface ServiceRow {
  /** the unit (nginx.service) or the Windows service name (wuauserv) */
  name: string;
  description: string;
  /** systemd's ACTIVE (active, inactive, failed, activating...); Windows: the Status in lower case (running, stopped...) */
  active: string;
  /** systemd's SUB (running, dead, exited...); Windows: the start type in lower case (automatic, manual, disabled) */
  sub: string;
  /** active and running (systemd: active; Windows: Status Running) */
  running: boolean;
  /** systemd: ACTIVE is failed; Windows: start type automatic and not running */
  failed: boolean;
  /** systemd, failed units: why (Result: exit-code, signal, timeout, start-limit-hit...) */
  result?: string;
  /** systemd, failed units: the main process's exit status (ExecMainStatus) */
  exitStatus?: number;
  /** systemd, failed units: when it entered this state, as systemctl prints it */
  since?: string;
}

/** The `services` command's answer: GET /api/agents/:agent/services, `services --json`. */
export interface ServicesResult {
  /** where the list came from: "systemctl" or "powershell Get-Service" */
  source: string;
  services: ServiceRow[];
  /** how many services the host has (before --failed and before the cut) */
  total: number;
  /** how many failed ones the host has */
  failedCount: number;
  /** rows left out past the agent's bound (the rest are counted, not listed) */
  omitted?: number;
}
/** The container commands' answers (the agent's shapes, passed through). */
export type { ContainerLogsResult, ContainerRow, ContainersResult } from '../collect/containers/types.ts';
/** POST /api/upgrade: which agents, the signed executable (a path on the manager's host), the batches. */
export interface UpgradeRequest extends Selection {
  to: string;
  batch: { count: number } | { percent: number };
  maxFailures: number;
}

/** A host's step in a rollout: not started, file going, switching to it, back on it, failed, already on it. */
export type HostStep = 'waiting' | 'sending' | 'switching' | 'done' | 'failed' | 'skipped';

/** One host of a rollout. */
export interface HostProgress {
  agent: string;
  agentId: string;
  step: HostStep;
  /** the version it ran when the rollout began */
  from: string;
  /** when the step last changed (ms) */
  at: number;
  error?: { code: string; message: string };
  /** when its file started going (ms), and when it was on its disk and verified */
  sendingAt?: number;
  sentAt?: number;
  /** how it was judged after a manager restart cut its transfer or switch short */
  note?: string;
}

/**
 * GET /api/upgrade, POST /api/upgrade, POST /api/upgrades/resume, `upgrade status --json`: the last
 * rollout, as <data-dir>/upgrade-rollout.json holds it (written durably at every step).
 */
export interface RolloutStatus {
  /** who started it */
  by: string;
  /** the executable: an absolute path on the manager's host, and its signed manifest */
  file: string;
  version: string;
  platform: string;
  arch: string;
  sha256: string;
  size?: number;
  batchSize: number;
  maxFailures: number;
  /** interrupted: the manager stopped during it (`manager upgrade resume` goes on) */
  state: 'running' | 'done' | 'stopped' | 'interrupted';
  startedAt: number;
  finishedAt?: number;
  /** the batch under way (1-based), of how many */
  batch?: number;
  batches?: number;
  /** when a restarted manager found it cut short */
  interruptedAt?: number;
  /** the last resume: when and by whom */
  resumedAt?: number;
  resumedBy?: string;
  hosts: HostProgress[];
}

/** POST /api/install-command, `manager install-command --json`: one host's install command. */
export interface InstallCommandAnswer {
  command: string;
  os: 'linux' | 'windows';
  arch: 'x64' | 'arm64';
  /** where the command downloads the agent from */
  url: string;
  sha256: string;
  /** the dashboard certificate's public-key pin (curl --pinnedpubkey) and SHA-1 thumbprint (Windows) */
  pin: string;
  thumbprint: string;
  tokenId: string;
  expiresAt: string;
  /** how to run it: as root, or in an elevated PowerShell */
  runAs: string;
}

/** GET /api/install-tokens, `manager install-command --list --json`: one install token (never the token itself). */
export interface InstallTokenRow {
  id: string;
  os: string;
  arch: string;
  labels: string[];
  by: string;
  createdAt: string;
  expiresAt: string;
  /** 'unused', 'used', 'expired' */
  state: 'unused' | 'used' | 'expired';
  usedBy?: string;
}

/** One process row of the history of who (`command` is null for viewers): a `top` row. */
export type ProcessHistoryRow = ProcessRow;

/** One minute of the history of who: when (ms), and the top processes by CPU and by memory then. */
export interface ProcessMinute {
  at: number;
  byCpu: ProcessHistoryRow[];
  byMem: ProcessHistoryRow[];
}

/** GET /api/agents/:agent/processes, `history <agent> --processes --json`. */
export interface ProcessHistory {
  agent: string;
  agentId: string;
  /** `?at=`: the time asked; `minutes` then holds the nearest minute kept (within 15 min), or nothing */
  asked?: number;
  from?: number;
  to?: number;
  minutes: ProcessMinute[];
  /** a range with more minutes than answered (the newest are answered) */
  truncated: boolean;
  /** false for viewers: command lines are shown to admins only */
  commands: boolean;
}

/** The usage series of a container or of `other`: each list aligned with `times`, null where not read or not named then. */
export interface ContainerHistoryValues {
  /** of one core (200 = two cores busy), the mean over the record's period */
  cpuPercent: (number | null)[];
  memUsedBytes: (number | null)[];
  /** bytes/s over the record's period */
  netRxRate: (number | null)[];
  netTxRate: (number | null)[];
  blockReadRate: (number | null)[];
  blockWriteRate: (number | null)[];
}

/** One container's series in GET /api/agents/:agent/containers/history (all null where a record did not name it). */
export interface ContainerHistorySeries extends ContainerHistoryValues {
  name: string;
  state: (string | null)[];
  health: (string | null)[];
  memLimitBytes: (number | null)[];
}

/** The containers past the named ones at each time, summed; `count` 0 where there were none. */
export interface ContainerHistoryOther extends ContainerHistoryValues {
  count: number[];
}

/** GET /api/agents/:agent/containers/history, `history <agent> --containers --json`. */
export interface ContainerHistory {
  agent: string;
  agentId: string;
  from: number;
  to: number;
  /** `?container=`: only that one (and no `other`) */
  container?: string;
  /**
   * false: no record in the span, because the agent sends none (older than container history, no
   * engine reachable, or --containers-every 0): not reported, which is not "no containers"
   */
  reported: boolean;
  /** the records' times (ms), oldest first */
  times: number[];
  /** containers the engine listed at each time */
  total: number[];
  /** the busiest first (mean CPU, then memory) */
  containers: ContainerHistorySeries[];
  /** names seen in the span but not answered (past the series bound): ask for one with `?container=` */
  moreContainers: number;
  other: ContainerHistoryOther | null;
  /**
   * null: each point is one record (one a minute); else the length of the periods a longer span was
   * summarised in (whole minutes): each point the means of its records, the state and health seen worst
   */
  stepMs: number | null;
  /** a span with more records than were read (the newest 35 days are) */
  truncated: boolean;
}

/** One rule of GET /api/rules: as the agent is sent it, with its alerts firing now. */
export type RuleView = Rule & { firing: Alert[] };

/** GET /api/rules (one entry an agent), GET /api/rules/:agent, `rules --json`. */
export interface AgentRules {
  agent: string;
  agentId: string;
  online: boolean;
  /** what the manager sends it; null: the manager sets no rules, the agent's own flags apply */
  version: string | null;
  /** what the agent says it runs (null: too old to run rules) */
  running: string | null;
  inSync: boolean;
  rules: RuleView[] | null;
  agentDown: { after: number; firing: Alert[] };
  /** firing alerts of rules the set no longer has */
  other: Alert[];
}

/** The lines an agent's meters are judged against (per figure, per mount). */
export type { AgentLimits, MeterLimit } from '../rules/meter-limits.ts';
import type { AgentLimits } from '../rules/meter-limits.ts';

/** GET /api/limits: what the fleet's meters are coloured by, each distinct set of lines once. */
export interface FleetLimits {
  /** every rule's metric, by rule name (an alert's processes are shown by CPU or by memory) */
  metrics: Record<string, Metric>;
  /** distinct sets; null: the manager sets no rules, the agent's own flags apply */
  sets: (AgentLimits | null)[];
  /** agent id -> its set's index in `sets` */
  agents: Record<string, number>;
}
