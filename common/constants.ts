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
/**
 * File transfer: bytes per data frame and bytes in flight before the agent waits for credit. 512 KiB
 * reads and frames cost the agent a fifth less CPU per GiB than 128 KiB ones (fewer reads through
 * the thread pool, fewer credits). The window is part of the protocol (the manager enforces it,
 * CREDIT_EXCEEDED): it stays 2 MiB so that agents and managers of either version work together.
 */
export const FILE_CHUNK_BYTES = 512 * 1024;
export const FILE_WINDOW_BYTES = 2 * 1024 * 1024;
/** Bytes a connection may hold queued before a sender waits for it to drain. */
export const SEND_BUFFER_BYTES = 1024 * 1024;
/** Bytes a receiver (HTTP response, file) may hold buffered before it waits to drain. */
export const SINK_BUFFER_BYTES = 1024 * 1024;
/**
 * Hard bound on what one connection may hold unsent: past it the peer is cut (SLOW_PEER). Reading
 * pauses above SEND_BUFFER_BYTES already, so only a peer that never reads gets here.
 */
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
/** A connection whose replies stay undrained (its reading paused) this long is cut (SLOW_PEER). */
export const SLOW_PEER_TIMEOUT_MS = 30_000;

export const DEFAULT_INTERVAL_S = 5;
export const DEFAULT_CPU_THRESHOLD = 80;
export const DEFAULT_CPU_FOR_S = 3;
/** CPU_NORMAL needs usage below threshold minus this many points, so 79-81% does not flap. */
export const CPU_HYSTERESIS = 5;
export const CPU_SAMPLE_MS = 1000;
/** Default distance of a rule's `clear` from its threshold for rates and counts (percentages: CPU_HYSTERESIS points). */
export const RULE_CLEAR_FRACTION = 0.05;
/** Rules a config may define, and rules one agent is sent. */
export const MAX_RULES = 64;
/** Keys, series per rule (mounts, interfaces) an agent keeps state for. */
export const MAX_RULE_SERIES = 64;
/** Labels per agent and per alert; length of a label key and value. */
export const MAX_LABELS = 16;
export const MAX_LABEL_KEY = 63;
export const MAX_LABEL_VALUE = 255;
/** Silences in force at once, and the longest one. */
export const MAX_SILENCES = 1000;
export const MAX_SILENCE_S = 90 * 86_400;

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
/** Alert counters (epochs) remembered per agent: a reset is rare, an old epoch's resends stop at its ack. */
export const ALERT_EPOCHS_KEPT = 4;
/** Alerts per agent shown but not yet on disk, acknowledged by the manager once the disk is back. */
export const UNACKED_ALERTS_KEPT = 1000;

/** A repeated log line (refused address, dropped datagram...) at most once per this period, with a count. */
export const LOG_THROTTLE_PERIOD_MS = 60_000;

/** A config file past this is refused unread: it is a few pages of YAML, not a data set. */
export const CONFIG_MAX_BYTES = 1024 * 1024;
/** CLI and API client: connecting to the API, and waiting for any byte of an answer. */
export const CLIENT_CONNECT_TIMEOUT_MS = 5_000;
export const CLIENT_RESPONSE_TIMEOUT_MS = COMMAND_TIMEOUT_MS + 15_000;
/** CLI and API client: largest JSON answer it reads. */
export const CLIENT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** agents.json: what agents bring in themselves is saved at most this often. */
export const ENROLL_SAVE_DELAY_MS = 1000;

/** events.jsonl: rotated past this size (--log-max-bytes); this many older files kept. */
export const DEFAULT_LOG_MAX_BYTES = 32 * 1024 * 1024;
export const LOG_FILES_KEPT = 4;
/** On start, at most this much of the newest record is read back (start time stays flat). */
export const LOG_READBACK_BYTES = 16 * 1024 * 1024;
/** A full or failing disk: how often a held write is retried, and how much is held in memory meanwhile. */
export const STORAGE_RETRY_MS = 2000;
export const STORAGE_HOLD_MAX_BYTES = 64 * 1024 * 1024;

/** Liveness: an agent is down after this many silent intervals, never after less than MIN_SILENCE_MS. */
export const SILENT_INTERVALS = 3;
export const MIN_SILENCE_MS = 3000;
/** How often the liveness sweep runs; a sweep later than this plus LIVENESS_LATE_MS judges nobody. */
export const LIVENESS_SWEEP_MS = 500;
export const LIVENESS_LATE_MS = 1500;
/** hello's interval (seconds) is accepted within these bounds. */
export const MIN_INTERVAL_S = 1;
export const MAX_INTERVAL_S = 3600;


/** Samples the agent keeps while it cannot reach a manager, sent as backfill after reconnecting. */
export const BACKFILL_MAX_SAMPLES = 3600;

// ---- agent-side limits (measurements, commands, state) -------------------------------------------

/** Windows readers (netstat -e, tasklist): give up after this long, read at most this much output. */
export const WIN_READER_TIMEOUT_MS = 10_000;
export const WIN_READER_MAX_BYTES = 4 * 1024 * 1024;
/** A program run for a command (the default Runner): time limit and output cap. */
export const RUN_TIMEOUT_MS = 15_000;
export const RUN_MAX_BYTES = 8 * 1024 * 1024;
/** A log program (journalctl, logread, dmesg, wevtutil): time limit and output read before the tail is cut. */
export const LOG_TIMEOUT_MS = 15_000;
export const LOG_RUN_MAX_BYTES = 32 * 1024 * 1024;
/** Longest mount point and filesystem type a report may carry (mount table fields, not user input). */
export const MOUNT_PATH_MAX = 1024;
export const FS_TYPE_MAX = 64;
/** statfs on a hung network mount never returns; give up on that mount after this long. */
export const STATFS_TIMEOUT_MS = 3000;
/** Largest /proc file the agent reads (net/dev or the mount table of a host with thousands of them). */
/**
 * A report's process count and per-mount usage are at most this old: counting lists all of /proc
 * and each mount is a statfs, the dearest readings of a report at --interval 1, for figures that
 * move slowly. `status` and `procs` read afresh; the root disk is measured for every report.
 */
export const SLOW_READING_MAX_AGE_MS = 5000;
export const PROC_FILE_MAX_BYTES = 4 * 1024 * 1024;
/** Readings of one /proc file asked for within this long of each other are one tick's: the first is reused (the alert sampler and a report, the root disk and the mount list). */
export const SAME_TICK_MS = 50;
/** When two CPU readings are too close to differ (one jiffy is 10 ms), wait this long and retry. */
export const CPU_RETRY_MS = 100;
/** `status` measures CPU and network rates over this window (while it gathers the rest). */
export const STATUS_WINDOW_MS = 500;
/** systeminformation lookups for the static part of `status`. */
export const SI_TIMEOUT_MS = 15_000;
/** Unacknowledged alerts kept by the agent (alerts.json); past it the oldest are dropped and counted. */
export const ALERT_QUEUE_MAX = 1000;
/** A state file that could not be written (full or failing disk) is tried again this often. */
export const STATE_RETRY_MS = 5000;

/** History store (common/history/): retention of each tier, how often it reaches the disk. */
export const HISTORY_RAW_RETENTION_MS = 24 * 3600_000;
export const HISTORY_MINUTE_RETENTION_MS = 14 * 86400_000;
export const HISTORY_HOUR_RETENTION_MS = 366 * 86400_000;
/** Samples wait in memory at most this long: a kill -9 loses at most this much. */
export const HISTORY_FLUSH_MS = 5000;
/** Series a file has room for: 14 headline ones, the rest for mounts and interfaces (2 each). */
export const HISTORY_MAX_SERIES = 40;
/** Agents' files kept open at once (the others are opened when needed). */
export const HISTORY_OPEN_FILES = 2048;
/** Samples waiting for the disk per agent before the oldest are dropped (a failing disk). */
export const HISTORY_MAX_PENDING = 600;
/** Points a history answer has at most when the caller gives none. */
export const HISTORY_DEFAULT_POINTS = 1000;
export const HISTORY_MAX_POINTS = 10_000;

/** The agent's on-disk spool of samples taken while no manager has them: two days at 5 s. */
export const SPOOL_MAX_SAMPLES = 34_560;
export const SPOOL_SEGMENT_SAMPLES = 1000;

// ---- web dashboard ------------------------------------------------------------------------------
/** Default port of the dashboard's HTTPS listener (--web host[:port]). */
export const DEFAULT_WEB_PORT = 5008;
/** A dashboard session ends after this long without a request, and at the latest after WEB_SESSION_MAX_MS. */
export const WEB_SESSION_IDLE_MS = 12 * 3600_000;
export const WEB_SESSION_MAX_MS = 7 * 24 * 3600_000;
/** Sessions kept at once; past this the oldest is dropped. */
export const WEB_MAX_SESSIONS = 1000;
/** A one-time sign-in link is valid this long, and once. */
export const WEB_LOGIN_LINK_MS = 10 * 60_000;
/**
 * Dashboards connected to the event stream at once; more are refused with TOO_MANY_CONNECTIONS.
 * Each stream holds a connection: kept below API_MAX_CONNECTIONS so that open dashboards alone
 * never fill the control API's cap (the CLI and the pages' own requests keep the rest).
 */
export const WEB_MAX_STREAMS = 100;
/** Unsent bytes a dashboard may have queued before it is cut (it reconnects and reloads). */
export const WEB_STREAM_MAX_QUEUED = 2 * 1024 * 1024;
/** Agent changes are sent to dashboards together at most this often. */
export const WEB_STREAM_FLUSH_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream and finds dead peers. */
export const WEB_STREAM_PING_MS = 15_000;
/** scrypt cost for stored passwords (N = 2^15, r = 8: about 32 MiB and 50-100 ms a check). */
export const WEB_SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const;

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
/**
 * A webhook event the receiver refuses with a 4xx (not 408/425/429) this many times in a row is set
 * aside (recorded, counted as rejected) so it does not hold back every event queued behind it.
 */
export const WEBHOOK_REJECT_ATTEMPTS = 5;
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
