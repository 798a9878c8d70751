/**
 * Reading a request body with a byte limit and a deadline, so an oversized
 * upload is refused after at most `limit` bytes instead of being buffered
 * whole, and a trickling one is given up on with its connection (SPEC §12).
 *
 * @module
 */

/**
 * A body that did not arrive in time. `released` settles once nothing reads
 * it any more: the read under way when the deadline passed has ended (the
 * client sent another byte, or went away) and the body is cancelled.
 */
export class LateBody {
  /** Settles once the body is cancelled with no read under way. */
  readonly released: Promise<void>;

  /** A body given up on, released when `released` settles. */
  constructor(released: Promise<void>) {
    this.released = released;
  }
}

/** How far a body's reading has come: the read under way, and whether it was given up on. */
interface Reading {
  inFlight: Promise<unknown>;
  givenUp: boolean;
}

/**
 * Reads `request`'s body as UTF-8 text; `null` past `limit` bytes. A body
 * that has not arrived within `timeoutMs` is given up on
 * ({@linkcode LateBody}, SPEC §12: a client trickling a byte a second must
 * not hold a request for ever).
 *
 * @example
 * ```ts
 * import { readBody } from "./body.ts";
 *
 * const request = new Request("http://localhost/", { method: "POST", body: "hello" });
 * const body = await readBody(request, 65536, 10_000);
 * console.log(body); // "hello"
 * ```
 */
export async function readBody(
  request: Request,
  limit: number,
  timeoutMs: number,
): Promise<string | null | LateBody> {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > limit) return null;
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const reading: Reading = { inFlight: Promise.resolve(), givenUp: false };
  const complete = readWithin(
    reader,
    length === null ? limit : Number(length),
    length !== null,
    reading,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), timeoutMs);
  });
  try {
    const body = await Promise.race([complete, late]);
    if (body !== LATE) return body;
    reading.givenUp = true;
    // Cancelled while a read is under way, the body stays Deno's until that
    // read ends; cancelled after it, it is dropped, and the connection can
    // close (see closingConnection).
    return new LateBody(
      reading.inFlight.then(() => reader.cancel()).then(noop, noop),
    );
  } finally {
    clearTimeout(timer);
    // The reading given up on ends with the cancel: nobody waits for it.
    complete.catch(noop);
  }
}

const LATE: unique symbol = Symbol("late");

function noop(): void {}

/**
 * Reads the body to its end, cancelling it once it passes `limit` bytes;
 * stops when given up on. With a declared length (`limit` is then that
 * length, which the server holds the client to), it stops at the last byte
 * instead of asking once more for the end: one read fewer per publish.
 */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
  declared: boolean,
  reading: Reading,
): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (!reading.givenUp) {
    const next = reader.read();
    reading.inFlight = next;
    const { done, value } = await next;
    if (done) return decode(chunks, size);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
    if (declared && size === limit) return decode(chunks, size);
  }
  return null;
}

/** Stateless between calls (no `stream` option), so one serves every body. */
const UTF8 = new TextDecoder();

function decode(chunks: readonly Uint8Array[], size: number): string {
  // One chunk is the common case (a small JSON body): decoded as it is.
  if (chunks.length === 1 && chunks[0] !== undefined) {
    return UTF8.decode(chunks[0]);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return UTF8.decode(bytes);
}

/**
 * What Deno prints (on stderr, once per cut connection) when a response
 * body from {@linkcode closingConnection} fails on purpose.
 */
const CUT = {
  [Symbol.for("Deno.customInspect")]: () =>
    "broadcaster: a request body did not arrive in time; its connection is closed (408)",
};

/**
 * `response` for a {@linkcode LateBody}, sent chunked and then failed on
 * purpose once the body is released, so that Deno closes the connection.
 * Deno's server otherwise keeps reading the rest of a request body nobody
 * wants, for as long as the client trickles it, even after an answer with
 * `Connection: close`; a failing response body is the one way to make it
 * let go (SPEC §12: the connection is freed). The client gets the status,
 * the headers and the whole body at once, then the end of the connection
 * instead of the chunked encoding's last chunk.
 */
export async function closingConnection(
  response: Response,
  late: LateBody,
): Promise<Response> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await late.released;
        controller.error(CUT);
        return;
      }
      sent = true;
      controller.enqueue(bytes);
    },
  });
  const headers = new Headers(response.headers);
  headers.set("connection", "close");
  return new Response(body, { status: response.status, headers });
}
