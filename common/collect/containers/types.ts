// The shapes of the container commands' answers, shared by the agent, the manager's API and the CLI.

export interface ContainerRow {
  /** the first 12 hex digits, as `docker ps` shows it */
  id: string;
  name: string;
  image: string;
  /** created, running, paused, restarting, exited, dead */
  state: string;
  /** the engine's words: "Up 5 minutes", "Exited (0) 2 hours ago" */
  status: string;
  /** healthy, unhealthy, starting; null: no healthcheck, or not inspected */
  health: string | null;
  /** restarts by the engine's restart policy (a manual restart sets it back to 0, as Docker does) */
  restartCount: number | null;
  /** when its process last started (ISO 8601): a manual restart shows here; null when not inspected */
  startedAt: string | null;
  /** of one core, as `docker stats` (200 = two cores busy); null when stopped or unreadable */
  cpuPercent: number | null;
  memUsedBytes: number | null;
  memLimitBytes: number | null;
  netRxBytes: number | null;
  netTxBytes: number | null;
  blockReadBytes: number | null;
  blockWriteBytes: number | null;
  /** why a value is null, by field (absent when all are there) */
  reasons?: Record<string, string>;
}

export interface ContainersResult {
  /** the socket that answered and why it was tried (DOCKER_HOST, default Docker socket...) */
  engine: { socket: string; from: string };
  containers: ContainerRow[];
  /** containers the engine listed (rows past the cap are left out and counted here) */
  total: number;
  /** rows not inspected for health and restart count (over the per-call cap) */
  notInspected: number;
  /** ms over which CPU % was measured */
  cpuWindowMs: number | null;
}

export interface ContainerLogsResult {
  name: string;
  lines: { stream: 'stdout' | 'stderr'; text: string }[];
  /** the body stopped at its byte bound before the engine was done */
  cut: boolean;
}
