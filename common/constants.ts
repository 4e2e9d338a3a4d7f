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
/** Failed sign-ins allowed per address and per user name within WEB_LOGIN_WINDOW_MS. */
export const WEB_LOGIN_FAILS_PER_ADDRESS = 20;
export const WEB_LOGIN_FAILS_PER_USER = 5;
export const WEB_LOGIN_WINDOW_MS = 15 * 60_000;
/** Dashboards connected to the event stream at once; more are refused with TOO_MANY_CONNECTIONS. */
export const WEB_MAX_STREAMS = 200;
/** Unsent bytes a dashboard may have queued before it is cut (it reconnects and reloads). */
export const WEB_STREAM_MAX_QUEUED = 2 * 1024 * 1024;
/** Agent changes are sent to dashboards together at most this often. */
export const WEB_STREAM_FLUSH_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream and finds dead peers. */
export const WEB_STREAM_PING_MS = 15_000;
/** scrypt cost for stored passwords (N = 2^15, r = 8: about 32 MiB and 50-100 ms a check). */
export const WEB_SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 } as const;
