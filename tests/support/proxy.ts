/**
 * A TCP proxy for resilience tests: forwards loopback connections to a
 * target and can cut every connection through it at once.
 *
 * @module
 */

/** A proxy in front of `127.0.0.1:targetPort`. */
export class CuttingProxy implements Disposable {
  readonly #listener: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  readonly #target: number;
  /** Connections cut so far. */
  cuts = 0;

  constructor(targetPort: number) {
    this.#target = targetPort;
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
      try {
        const server = await Deno.connect({
          hostname: "127.0.0.1",
          port: this.#target,
        });
        this.#open.add(client);
        this.#open.add(server);
        void this.#pipe(client, server);
        void this.#pipe(server, client);
      } catch {
        client.close();
      }
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
