/**
 * The load generator's client: many connections, requests matched to their
 * answers, broadcasts handed to a callback with their arrival time.
 *
 * @module
 */

/** The broadcast params the generator reads. */
export interface Broadcast {
  readonly id: string;
  readonly seq: number;
  readonly channel: string;
  /** The pattern subscription it came through, if any. */
  readonly pattern?: string;
  readonly payload: { readonly t: number; readonly n: number };
}

/** High-resolution wall-clock milliseconds, comparable across the generator's connections. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Closes `socket` with 1000 and waits for the close to complete. */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    socket.addEventListener("close", () => resolve(), { once: true });
    socket.close(1000);
  });
}

/** A connection of the load generator. */
export class BenchClient {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, {
    resolve: (result: unknown) => void;
    reject: (error: Error) => void;
  }>();
  #nextId = 1;
  /** Called for every broadcast, with its arrival time. */
  onBroadcast: (params: Broadcast, receivedAt: number) => void = () => {};

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const receivedAt = now();
      const frame = JSON.parse(event.data);
      if (frame.method === "broadcast") {
        this.onBroadcast(frame.params, receivedAt);
        return;
      }
      const waiter = this.#pending.get(frame.requestId);
      if (waiter === undefined) return;
      this.#pending.delete(frame.requestId);
      if (frame.error) {
        waiter.reject(new Error(`${frame.error.code}: ${frame.error.message}`));
      } else waiter.resolve(frame.result);
    };
    socket.onclose = () => {
      for (const waiter of this.#pending.values()) {
        waiter.reject(new Error("connection closed"));
      }
      this.#pending.clear();
    };
  }

  /** Opens a connection and waits until it is open. */
  static open(url: string): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const client = new BenchClient(socket);
      socket.onopen = () => resolve(client);
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  /** Sends a request and resolves with its result. */
  request(method: string, params: unknown): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Closes the connection and waits for the close to complete. */
  close(): Promise<void> {
    return closeSocket(this.#socket);
  }
}

/** Runs `task` for each index below `count`, at most `concurrency` at a time. */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, worker),
  );
  return results;
}

/** Resolves when `done()` holds, or rejects after `timeoutMs`; checks every 10 ms. */
export async function waitFor(
  done: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Calls `tick(i)` `count` times at `rate` per second, correcting for drift. */
export async function atRate(
  count: number,
  rate: number,
  tick: (index: number) => void,
): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    tick(i);
  }
}

/** A payload of about `bytes` bytes carrying its send time. */
export function timedPayload(n: number, bytes: number): Broadcast["payload"] {
  const payload = { t: now(), n, pad: "" };
  const size = JSON.stringify(payload).length;
  payload.pad = "x".repeat(Math.max(0, bytes - size));
  return payload;
}

/**
 * A connection of the Real-time Communication Service protocol (`/ws`):
 * authenticated by `?token=`, subscribed to its topics, its `Broadcast`
 * deliveries handed to a callback. The protocol has no `seq`.
 */
export class RtcBenchClient {
  readonly #socket: WebSocket;
  #subscribed: (() => void) | null = null;
  /** Called for every broadcast, with its payload and arrival time. */
  onBroadcast: (payload: Broadcast["payload"], receivedAt: number) => void =
    () => {};

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const receivedAt = now();
      const frame = JSON.parse(event.data);
      if (frame.type === "Broadcast") {
        this.onBroadcast(frame.data.payload, receivedAt);
      } else if (
        frame.type === "Status" && frame.data.status === "subscribed"
      ) {
        this.#subscribed?.();
      }
    };
  }

  /** Opens `url` with `token` and waits for the welcome. */
  static open(url: string, token: string): Promise<RtcBenchClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url}?token=${token}`);
      const client = new RtcBenchClient(socket);
      socket.addEventListener("message", () => resolve(client), { once: true });
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  /** Subscribes to `topics` and waits for the answer. */
  subscribe(topics: string[]): Promise<void> {
    return new Promise((resolve) => {
      this.#subscribed = resolve;
      this.#socket.send(
        JSON.stringify({ type: "Subscribe", data: { topics } }),
      );
    });
  }

  /** Closes the connection and waits for the close to complete. */
  close(): Promise<void> {
    return closeSocket(this.#socket);
  }
}

/**
 * A viewer of the Nova Streaming protocol: connected with `?token=` to its
 * stream, counting its `viewer_count_changed` updates and handing the
 * stream's other events to a callback.
 */
export class NovaBenchClient {
  readonly #socket: WebSocket;
  /** `viewer_count_changed` updates received. */
  countUpdates = 0;
  /** Called for every stream event, with its data and arrival time. */
  onEvent: (data: Broadcast["payload"], receivedAt: number) => void = () => {};

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const receivedAt = now();
      const frame = JSON.parse(event.data);
      if (frame.event === "viewer_count_changed") this.countUpdates++;
      else if (frame.event === "tick") this.onEvent(frame.data, receivedAt);
    };
  }

  /** Opens `url` with `token` and waits for `connection_established`. */
  static open(url: string, token: string): Promise<NovaBenchClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url}?token=${token}`);
      const client = new NovaBenchClient(socket);
      socket.addEventListener("message", () => resolve(client), { once: true });
      socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  /** Closes the connection and waits for the close to complete. */
  close(): Promise<void> {
    return closeSocket(this.#socket);
  }
}

/** Tracks per-subscription delivery: count, seq gaps, latencies. */
export class DeliveryLog {
  readonly latencies: number[] = [];
  delivered = 0;
  gaps = 0;
  /** The last seq per client and subscription (its pattern, else its channel). */
  readonly #lastSeq = new Map<BenchClient, Map<string, number>>();

  /** A callback for `client.onBroadcast`. */
  record(client: BenchClient): (params: Broadcast, receivedAt: number) => void {
    const seqs = new Map<string, number>();
    this.#lastSeq.set(client, seqs);
    return (params, receivedAt) => {
      const subscription = params.pattern ?? params.channel;
      const last = seqs.get(subscription) ?? 0;
      if (params.seq !== last + 1) this.gaps++;
      seqs.set(subscription, params.seq);
      this.delivered++;
      this.latencies.push(receivedAt - params.payload.t);
    };
  }

  /** A callback for a client without `seq` (`RtcBenchClient.onBroadcast`). */
  recordUnsequenced(): (
    payload: Broadcast["payload"],
    receivedAt: number,
  ) => void {
    return (payload, receivedAt) => {
      this.delivered++;
      this.latencies.push(receivedAt - payload.t);
    };
  }
}

/** The `q`-quantile of `values` (0 ≤ q ≤ 1); sorts in place. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  const index = Math.min(values.length - 1, Math.floor(q * values.length));
  return values[index] ?? Number.NaN;
}
