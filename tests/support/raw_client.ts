/**
 * A WebSocket client over a raw TCP connection, for what a browser-grade
 * client cannot do: stop reading (a slow consumer) or ignore pings (a dead
 * peer). Frames are written and parsed by hand, per RFC 6455.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frame read off the wire. */
export interface RawFrame {
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** Opcodes used here. */
export const Opcode = { Text: 1, Close: 8, Ping: 9, Pong: 10 } as const;

/** The answer to a raw upgrade request, its connection still open. */
export interface UpgradeAnswer {
  /** The status code; 0 if the server closed before answering. */
  readonly status: number;
  /** The answer's status line and headers, as sent. */
  readonly head: string;
  /** The TCP connection; the caller closes it. */
  readonly connection: Deno.Conn;
  /** Bytes read past the answer's headers (the first frames, on a 101). */
  readonly leftover: Uint8Array;
}

/**
 * Sends a WebSocket upgrade request for a `ws://` URL over a new TCP
 * connection, with extra `headers`, and reads the answer's headers.
 */
export async function rawUpgrade(
  url: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<UpgradeAnswer> {
  const target = new URL(url);
  const connection = await Deno.connect({
    hostname: target.hostname,
    port: Number(target.port),
  });
  const request = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ].join("\r\n");
  try {
    await writeAll(connection, encoder.encode(request));
    let received: Uint8Array = new Uint8Array(0);
    while (true) {
      const chunk = new Uint8Array(4096);
      const read = await connection.read(chunk);
      if (read === null) {
        return { status: 0, head: "", connection, leftover: received };
      }
      received = concat(received, chunk.subarray(0, read));
      const text = decoder.decode(received);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const statusLine = text.slice(0, text.indexOf("\r\n"));
        const headerBytes = encoder.encode(text.slice(0, end + 4)).length;
        return {
          status: Number(statusLine.split(" ")[1]),
          head: text.slice(0, end),
          connection,
          leftover: received.subarray(headerBytes),
        };
      }
    }
  } catch (error) {
    connection.close();
    throw error;
  }
}

/** A raw WebSocket client; reads nothing until asked to. */
export class RawClient {
  readonly #connection: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);

  private constructor(connection: Deno.Conn, leftover: Uint8Array) {
    this.#connection = connection;
    this.#buffer = leftover;
  }

  /** Connects to a `ws://` URL and completes the handshake. */
  static async connect(url: string): Promise<RawClient> {
    const { status, connection, leftover } = await rawUpgrade(url);
    if (status !== 101) {
      connection.close();
      throw new Error(
        status === 0
          ? "closed during the handshake"
          : `handshake refused: ${status}`,
      );
    }
    return new RawClient(connection, leftover);
  }

  /** Sends one masked text frame. */
  async sendText(text: string): Promise<void> {
    await writeAll(
      this.#connection,
      maskedFrame(Opcode.Text, encoder.encode(text)),
    );
  }

  /** Reads the next frame; `null` once the server has closed the connection. */
  async readFrame(): Promise<RawFrame | null> {
    while (true) {
      const frame = this.#parse();
      if (frame !== undefined) return frame;
      const chunk = new Uint8Array(65536);
      const read = await this.#connection.read(chunk).catch(() => null);
      if (read === null) return null;
      this.#buffer = concat(this.#buffer, chunk.subarray(0, read));
    }
  }

  /**
   * Reads frames until the close frame, for at most `timeoutMs`; returns its
   * code and the text frames before it.
   */
  async readUntilClose(
    timeoutMs = 30_000,
  ): Promise<{ code: number | null; texts: string[] }> {
    // A server that never closes fails the test instead of hanging it.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      const texts: string[] = [];
      while (true) {
        const frame = await this.readFrame();
        if (frame === null) {
          if (timedOut) {
            throw new Error(`no close frame within ${timeoutMs} ms`);
          }
          return { code: null, texts };
        }
        if (frame.opcode === Opcode.Text) {
          texts.push(decoder.decode(frame.payload));
        }
        if (frame.opcode === Opcode.Close) {
          const code = frame.payload.length >= 2
            ? (frame.payload[0] ?? 0) * 256 + (frame.payload[1] ?? 0)
            : null;
          return { code, texts };
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the TCP connection. */
  close(): void {
    try {
      this.#connection.close();
    } catch {
      // Already closed.
    }
  }

  #parse(): RawFrame | undefined {
    const buffer = this.#buffer;
    if (buffer.length < 2) return undefined;
    const first = buffer[0] ?? 0;
    const second = buffer[1] ?? 0;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return undefined;
      length = (buffer[2] ?? 0) * 256 + (buffer[3] ?? 0);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return undefined;
      length = 0;
      for (let i = 2; i < 10; i++) length = length * 256 + (buffer[i] ?? 0);
      offset = 10;
    }
    if (buffer.length < offset + length) return undefined;
    const payload = buffer.slice(offset, offset + length);
    this.#buffer = buffer.slice(offset + length);
    return { opcode: first & 0x0f, payload };
  }
}

function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const length = payload.length;
  const header = length < 126
    ? [0x80 | opcode, 0x80 | length]
    : length < 65536
    ? [0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]
    : [
      0x80 | opcode,
      0x80 | 127,
      0,
      0,
      0,
      0,
      (length >>> 24) & 0xff,
      (length >> 16) & 0xff,
      (length >> 8) & 0xff,
      length & 0xff,
    ];
  const frame = new Uint8Array(header.length + 4 + length);
  frame.set(header, 0);
  frame.set(mask, header.length);
  for (let i = 0; i < length; i++) {
    frame[header.length + 4 + i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  }
  return frame;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}

async function writeAll(
  connection: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await connection.write(bytes.subarray(written));
  }
}
