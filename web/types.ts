// Shapes of what the API answers (agents --json, alerts --json).

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
  metrics: Record<string, any>;
  interfaces?: { name: string; rxBytes: number; txBytes: number; rxRate: number | null; txRate: number | null }[];
  /** the newest report's mounts; type and available are null from older agents */
  mounts?: Mount[];
}

export interface Mount {
  mount: string;
  type: string | null;
  size: number;
  used: number;
  available: number | null;
  percent: number;
}

/** The fullest mount (highest used %), or the root filesystem's headline value from an agent that sends no mounts. */
export function worstMount(a: Agent): { mount: string; percent: number } | null {
  let worst: Mount | undefined;
  for (const m of a.mounts ?? []) if (!worst || m.percent > worst.percent) worst = m;
  if (worst) return { mount: worst.mount, percent: worst.percent };
  const p = a.metrics?.diskPercent;
  return typeof p === 'number' ? { mount: a.platform === 'win32' ? 'C:' : '/', percent: p } : null;
}

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
  /** from a rule: which, whether it fires or resolves, how bad, and its series (mount, interface) */
  rule?: string;
  state?: 'firing' | 'resolved';
  severity?: 'warning' | 'critical';
  labels?: Record<string, string>;
  /** the id of the silence that held back its notification */
  silenced?: string;
}

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

export type AgentState = 'online' | 'offline' | 'pending' | 'restarting' | 'down';

export function stateOf(a: Agent): AgentState {
  if (a.trust === 'pending') return 'pending';
  if (a.restarting) return 'restarting';
  if (a.online) return 'online';
  return a.down ? 'down' : 'offline';
}
