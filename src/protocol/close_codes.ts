/**
 * WebSocket close codes the server uses (SPEC §3), and what a client should do
 * after each: reconnect with backoff after 1001, 1011, 1013; fetch a fresh
 * token after 4001; fix its own bug after 1003, 1008, 1009; stay away after
 * 4003 (a back-end disconnected it).
 *
 * @module
 */

/** Close codes by meaning. */
export const CloseCode = {
  /** The client or server ended the session normally. */
  Normal: 1000,
  /** The server is shutting down, or the connection was idle. */
  GoingAway: 1001,
  /** A binary frame was sent; the protocol is text-only. */
  UnsupportedData: 1003,
  /** Never sent: the peer vanished without a close frame (what the logs report). */
  AbnormalClosure: 1006,
  /** Policy: sustained rate abuse, or an origin not allowed. */
  PolicyViolation: 1008,
  /** A frame over `MAX_MESSAGE_BYTES`. */
  MessageTooBig: 1009,
  /** A server bug; reconnect with backoff. */
  InternalError: 1011,
  /** A slow consumer: too much unsent data. */
  TryAgainLater: 1013,
  /** The token expired without a refresh. */
  TokenExpired: 4001,
  /** A back-end disconnected the user (`POST /disconnect`): do not reconnect on your own. */
  DisconnectedByServer: 4003,
  /** Not authenticated within `AUTH_TIMEOUT_SECONDS` (SPEC §12): reconnect with backoff. */
  AuthTimeout: 4008,
} as const;
