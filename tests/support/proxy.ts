/**
 * A TCP proxy for resilience tests: forwards loopback connections to a
 * target, can cut every connection through it at once, can stall new ones
 * (a slow network), and can be pointed at another target (a load balancer
 * after a node died).
 *
 * @module
 */

/** Options of {@linkcode CuttingProxy}. */
export interface ProxyOptions {
  /** How long to hold each new connection before it reaches the target, in ms. */
  readonly stallMs?: () => number;
}

/** A proxy in front of `127.0.0.1:targetPort`. */
export class CuttingProxy implements Disposable {
  readonly #listener: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  readonly #stallMs: () => number;
  /** The port new connections are forwarded to. */
  target: number;
  /** Connections cut so far. */
  cuts = 0;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(targetPort: number, options: ProxyOptions = {}) {
    this.target = targetPort;
    this.#stallMs = options.stallMs ?? (() => 0);
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    void this.#accept();
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Drops every connection through the proxy, both ways, like a network cut. */
  cutAll(): void {
    for (const connection of this.#open) {
      try {
        connection.close();
      } catch {
        // Already closed.
      }
      this.cuts++;
    }
    this.#open.clear();
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      this.accepted++;
      // Cut like the others while it stalls.
      this.#open.add(client);
      void this.#forward(client);
    }
  }

  async #forward(client: Deno.Conn): Promise<void> {
    try {
      const stall = this.#stallMs();
      if (stall > 0) await new Promise((resolve) => setTimeout(resolve, stall));
      if (!this.#open.has(client)) return;
      const server = await Deno.connect({
        hostname: "127.0.0.1",
        port: this.target,
      });
      if (!this.#open.has(client)) return server.close();
      this.#open.add(server);
      void this.#pipe(client, server);
      void this.#pipe(server, client);
    } catch {
      if (this.#open.delete(client)) client.close();
    }
  }

  async #pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    try {
      await from.readable.pipeTo(to.writable);
    } catch {
      // Cut.
    } finally {
      for (const connection of [from, to]) {
        if (this.#open.delete(connection)) {
          try {
            connection.close();
          } catch {
            // Already closed.
          }
        }
      }
    }
  }

  [Symbol.dispose](): void {
    this.cutAll();
    this.#listener.close();
  }
}
