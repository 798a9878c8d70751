/**
 * Who may connect (SPEC §12): the caps a node holds its sockets to, checked
 * before an upgrade (cheap: no socket, no state), and the counts behind
 * them, kept by the connections as they open, authenticate and close.
 *
 * @module
 */

import { errorResponse } from "./responses.ts";

/** The caps, from the configuration (`0`: no limit). */
export interface AdmissionLimits {
  /** `MAX_CONNECTIONS`. */
  readonly maxConnections: number;
  /** `MAX_CONNECTIONS_PER_USER`. */
  readonly maxConnectionsPerUser: number;
  /** `MAX_PENDING_CONNECTIONS_PER_IP`. */
  readonly maxPendingPerAddress: number;
}

/** Why an upgrade was refused, as the metrics label it. */
export type RefusalReason =
  | "max_connections"
  | "pending_per_address"
  | "connections_per_user";

/** A refused upgrade, before a protocol words it. */
export interface Refusal {
  /** 503 at capacity (with `Retry-After`), 429 over a cap of the client's own. */
  readonly status: 503 | 429;
  /** Why, as the metrics label it. */
  readonly reason: RefusalReason;
  /** For the client. */
  readonly message: string;
  /** The headers every wording carries (`Retry-After` at capacity). */
  readonly headers: readonly (readonly [string, string])[];
}

const AT_CAPACITY: Refusal = {
  status: 503,
  reason: "max_connections",
  message: "server at capacity, try again later",
  headers: [["retry-after", "5"]],
};
const TOO_MANY_PENDING: Refusal = {
  status: 429,
  reason: "pending_per_address",
  message: "too many unauthenticated connections from this address",
  headers: [],
};
const TOO_MANY_FOR_USER: Refusal = {
  status: 429,
  reason: "connections_per_user",
  message: "too many connections for this user",
  headers: [],
};

/**
 * A refusal in the REST error shape, as the native protocol and WebRocket
 * answer it: `Internal` at capacity, `ResourceExhausted` over a cap.
 */
export function restRefusal(refusal: Refusal): Response {
  return errorResponse(
    refusal.status === 503 ? "Internal" : "ResourceExhausted",
    refusal.message,
    { status: refusal.status, headers: refusal.headers },
  );
}

/**
 * The counts of one node's sockets: all of them, the unauthenticated ones by
 * address, the authenticated ones by user.
 *
 * @example
 * ```ts
 * import { Admission } from "./admission.ts";
 *
 * const admission = new Admission(
 *   { maxConnections: 0, maxConnectionsPerUser: 0, maxPendingPerAddress: 100 },
 *   () => {},
 * );
 * admission.refusal({ address: "10.0.0.1", user: null, open: 0 }); // null: welcome
 * ```
 */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #refused: (reason: RefusalReason) => void;
  readonly #pending = new Map<string, number>();
  readonly #users = new Map<string, number>();
  #pendingTotal = 0;
  #closed = 0;

  /** Holds sockets to `limits`; `refused` counts each refusal. */
  constructor(
    limits: AdmissionLimits,
    refused: (reason: RefusalReason) => void,
  ) {
    this.#limits = limits;
    this.#refused = refused;
  }

  /** Unauthenticated sockets now. */
  get pending(): number {
    return this.#pendingTotal;
  }

  /** Sockets closed since the start: waves of closes are when memory can go back. */
  get closed(): number {
    return this.#closed;
  }

  /** A socket closed (once, whoever closed it). */
  countClosed(): void {
    this.#closed++;
  }

  /** This node's sockets of `user`. */
  connectionsOf(user: string): number {
    return this.#users.get(user) ?? 0;
  }

  /** Whether one more socket of `user` would be over `MAX_CONNECTIONS_PER_USER`. */
  overUserLimit(
    user: string,
    others: number = this.connectionsOf(user),
  ): boolean {
    const max = this.#limits.maxConnectionsPerUser;
    return max > 0 && others >= max;
  }

  /**
   * The refusal of an upgrade from `address` (of `user`, when it brings a
   * token; of nobody yet otherwise) while `open` sockets are open; `null`
   * to let it in. 503 past `MAX_CONNECTIONS`, 429 past the pending cap of
   * its address or its user's cap. Each protocol words it
   * ({@linkcode restRefusal} for the native one).
   */
  refusal(
    request: {
      readonly address: string;
      readonly user: string | null;
      readonly open: number;
    },
  ): Refusal | null {
    const { maxConnections, maxPendingPerAddress } = this.#limits;
    if (maxConnections > 0 && request.open >= maxConnections) {
      this.#refused("max_connections");
      return AT_CAPACITY;
    }
    if (request.user === null) {
      if ((this.#pending.get(request.address) ?? 0) >= maxPendingPerAddress) {
        this.#refused("pending_per_address");
        return TOO_MANY_PENDING;
      }
    } else if (this.overUserLimit(request.user)) {
      this.#refused("connections_per_user");
      return TOO_MANY_FOR_USER;
    }
    return null;
  }

  /** A socket from `address` is unauthenticated now (`+1`) or no more (`-1`). */
  countPending(address: string, change: 1 | -1): void {
    const next = (this.#pending.get(address) ?? 0) + change;
    if (next <= 0) this.#pending.delete(address);
    else this.#pending.set(address, next);
    this.#pendingTotal += change;
  }

  /** A socket of `user` is open now (`+1`) or no more (`-1`). */
  countUser(user: string, change: 1 | -1): void {
    const next = (this.#users.get(user) ?? 0) + change;
    if (next <= 0) this.#users.delete(user);
    else this.#users.set(user, next);
  }

  /** The refusal after the upgrade (at `auth`), counted like the others. */
  refusedAtAuth(): void {
    this.#refused("connections_per_user");
  }
}
