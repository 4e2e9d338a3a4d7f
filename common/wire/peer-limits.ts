// A connection's own bounds on what it queues for a peer (each end's choice, not the protocol's).

/** Bytes a connection may hold queued before a sender waits for it to drain. */
export const SEND_BUFFER_BYTES = 1024 * 1024;
/**
 * Hard bound on what one connection may hold unsent: past it the peer is cut (SLOW_PEER). Reading
 * pauses above SEND_BUFFER_BYTES already, so only a peer that never reads gets here.
 */
export const MAX_UNSENT_BYTES = 8 * 1024 * 1024;
/** A connection whose replies stay undrained (its reading paused) this long is cut (SLOW_PEER). */
export const SLOW_PEER_TIMEOUT_MS = 30_000;
