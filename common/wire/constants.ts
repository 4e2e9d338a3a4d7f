// What both ends of the protocol must agree on: ports, the protocol version, frame and message
// limits, the file transfer's credit window, the heartbeat. Every other default sits beside the
// code that uses it.

export const PROTOCOL_VERSION = 1;

/** The manager listens for agents on TCP (frames) and UDP (alert datagrams). */
export const DEFAULT_TCP_PORT = 5005;
export const DEFAULT_UDP_PORT = 5006;

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

/** Heartbeat: a ping after this much send silence; the peer is dead after HEARTBEAT_MISSES of them. */
export const HEARTBEAT_MS = 10_000;
export const HEARTBEAT_MISSES = 3;
/** The first frame (hello) must arrive within this time of the TCP accept; the agent waits as long for welcome. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** hello's interval (seconds) is accepted within these bounds. */
export const MIN_INTERVAL_S = 1;
export const MAX_INTERVAL_S = 3600;

/** Rules a config may define, and rules one agent is sent. */
export const MAX_RULES = 64;
/** Keys, series per rule (mounts, interfaces) an agent keeps state for. */
export const MAX_RULE_SERIES = 64;
/** Labels per agent and per alert; length of a label key and value. */
export const MAX_LABELS = 16;
export const MAX_LABEL_KEY = 63;
export const MAX_LABEL_VALUE = 255;
/** Longest mount point and filesystem type a report may carry (mount table fields, not user input). */
export const MOUNT_PATH_MAX = 1024;
export const FS_TYPE_MAX = 64;
/** `logs`: lines sent when the request names none, and the most one request may ask for. */
export const DEFAULT_LOG_LINES = 50;
export const MAX_LOG_LINES = 5000;
