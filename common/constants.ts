// Every default, limit and timeout of the product in one place.

export const PRODUCT = 'hostwatch';
export const VERSION = '0.1.0';
export const PROTOCOL_VERSION = 1;

export const DEFAULT_TCP_PORT = 5005;
export const DEFAULT_UDP_PORT = 5006;
export const DEFAULT_API = '127.0.0.1:5007';
export const DEFAULT_DATA_DIR = './manager-data';
export const DEFAULT_STATE_DIR = './agent-state';

/** Largest frame body accepted on the wire (header excluded). File chunks are far smaller. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Largest UDP datagram we accept or send. */
export const MAX_DATAGRAM_BYTES = 8 * 1024;
/** File transfer: bytes per data frame and bytes in flight before the agent waits for credit. */
export const FILE_CHUNK_BYTES = 128 * 1024;
export const FILE_WINDOW_BYTES = 2 * 1024 * 1024;
/** Bytes a connection may hold queued before a sender waits for it to drain. */
export const SEND_BUFFER_BYTES = 1024 * 1024;
/** Bytes a receiver (HTTP response, file) may hold buffered before it waits to drain. */
export const SINK_BUFFER_BYTES = 1024 * 1024;

export const DEFAULT_INTERVAL_S = 5;
export const DEFAULT_CPU_THRESHOLD = 80;
export const DEFAULT_CPU_FOR_S = 3;
/** CPU_NORMAL needs usage below threshold minus this many points, so 79-81% does not flap. */
export const CPU_HYSTERESIS = 5;
export const CPU_SAMPLE_MS = 1000;

/** Heartbeat: a ping after this much send silence; the peer is dead after HEARTBEAT_MISSES of them. */
export const HEARTBEAT_MS = 10_000;
export const HEARTBEAT_MISSES = 3;
/** The first frame (hello) must arrive within this time of the TCP accept. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Reconnect backoff: min(base * 2^n, cap) with full jitter. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

/** Command timeouts (the manager gives up waiting on the agent). */
export const COMMAND_TIMEOUT_MS = 30_000;
/** A file transfer fails if no chunk arrives for this long. */
export const FETCH_IDLE_TIMEOUT_MS = 30_000;

export const DEFAULT_LOG_LINES = 50;
export const MAX_LOG_LINES = 5000;
export const MAX_LOG_BYTES = 512 * 1024;

/** Alert retransmission over UDP until acknowledged (TCP copy is sent at once too). */
export const ALERT_RETRY_MS = 2000;
/** In-memory alerts kept by the manager for `alerts` (the event log keeps all). */
export const ALERTS_KEPT = 10_000;
/** Per-agent seqs remembered for duplicate suppression. */
export const ALERT_DEDUPE_WINDOW = 4096;

/** A repeated log line (refused address, dropped datagram...) at most once per this period, with a count. */
export const LOG_THROTTLE_PERIOD_MS = 60_000;

/** Largest HTTP request body the control API reads. */
export const API_MAX_BODY = 64 * 1024;

/** Connections accepted but not through TLS and hello yet; past this new ones are dropped. */
export const MAX_HANDSHAKING = 256;
/** New TCP connections a second from one address (a burst of twice this is allowed). */
export const CONNECTS_PER_SECOND = 20;

/** Samples the agent keeps while it cannot reach a manager, sent as backfill after reconnecting. */
export const BACKFILL_MAX_SAMPLES = 3600;

// ---- Prometheus, Alertmanager and webhooks -----------------------------------------------------

/** Where `/metrics` and `/sd` listen with `--metrics` and no port given. */
export const DEFAULT_METRICS_PORT = 9105;
export const METRICS_TOKEN_FILE = 'metrics-token';
/** Firing alerts are re-sent to Alertmanager this often (Prometheus' --rules.alert.resend-delay). */
export const ALERT_RESEND_MS = 60_000;
/** A firing alert's endsAt is this many resend periods ahead: a manager that dies lets it resolve. */
export const ALERT_ENDS_AFTER_RESENDS = 4;
/** A resolution is re-sent for this long after it was first delivered (as Prometheus does). */
export const RESOLVED_RESEND_MS = 15 * 60_000;
/** Delivery retries: min(base * 2^n, cap) with full jitter, until the destination answers. */
export const NOTIFY_BACKOFF_BASE_MS = 1000;
export const NOTIFY_BACKOFF_CAP_MS = 60_000;
/** One HTTP request to Alertmanager or a webhook gives up after this long (then retried). */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** Alerts in one POST to Alertmanager. */
export const ALERTMANAGER_BATCH = 500;
/**
 * The durable outbox's bound: past either, the oldest undelivered items are dropped (counted and
 * shown in `notify status`). 64 MiB holds far more than an hour of a 10,000-host fleet's alerts.
 */
export const OUTBOX_MAX_BYTES = 64 * 1024 * 1024;
export const OUTBOX_MAX_ITEMS = 100_000;
/** Largest single outbox record (a webhook body, an alert); bigger ones are refused, not queued. */
export const OUTBOX_MAX_RECORD_BYTES = 256 * 1024;
/** Outbox file compacted when it holds this many times the live bytes (and at least 1 MiB). */
export const OUTBOX_COMPACT_RATIO = 4;
export const OUTBOX_FILE = 'outbox.log';
export const WEBHOOK_SECRET_FILE = 'webhook-secret';
export const WEBHOOK_SIGNATURE_HEADER = 'x-hostwatch-signature';
export const WEBHOOK_EVENT_HEADER = 'x-hostwatch-event';
