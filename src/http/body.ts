/**
 * Reading a request body with a byte limit and a deadline, so an oversized
 * upload is refused after at most `limit` bytes instead of being buffered
 * whole, and a trickling one is given up on with its connection (SPEC §12);
 * and the same for a body that a refusal never read.
 *
 * @module
 */

/**
 * A body given up on: still arriving at the deadline, past the byte limit
 * by then (`tooLarge`) or within it (`late`); or broken off, its reading
 * failed (`broken`: the client went away mid-body, or sent a broken one). `released` settles once nothing reads it any more: the
 * read under way when it was given up on has ended (the client sent more,
 * or went away) and the body is cancelled. The answer to it goes through
 * {@linkcode closingConnection}.
 */
export class AbandonedBody {
  /** Why it was given up on. */
  readonly reason: "tooLarge" | "late" | "broken";
  /** Settles once no read of the body is under way any more. */
  readonly released: Promise<void>;

  /** A body given up on for `reason`, released when `released` settles. */
  constructor(
    reason: "tooLarge" | "late" | "broken",
    released: Promise<void>,
  ) {
    this.reason = reason;
    this.released = released;
  }
}

/** How far a body's reading has come: the read under way, whether it is past the limit, whether it was given up on. */
interface Reading {
  inFlight: Promise<unknown> | undefined;
  tooLarge: boolean;
  givenUp: boolean;
}

/**
 * What {@linkcode readBody} answers for a body over its limit that was all
 * in by the deadline (read to its end, and dropped): refused, and the
 * connection may serve the next request.
 */
export const TOO_LARGE: unique symbol = Symbol("too large");

/**
 * Reads `request`'s body as UTF-8 text. Past `limit` bytes it is read on to
 * its end without being kept ({@linkcode TOO_LARGE}), so that the refusal
 * can be read by the client and the connection kept. A body still arriving
 * after `timeoutMs` (SPEC §12: a client trickling a byte a second must not
 * hold a request for ever) is an {@linkcode AbandonedBody}.
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
export function readBody(
  request: Request,
  limit: number,
  timeoutMs: number,
): Promise<string | typeof TOO_LARGE | AbandonedBody> {
  if (request.body === null) return Promise.resolve("");
  const declared = declaredLength(request);
  const reader = request.body.getReader();
  const reading: Reading = {
    inFlight: undefined,
    givenUp: false,
    tooLarge: declared !== null && declared > limit,
  };
  // One promise, settled by whichever comes first: the body's end, a failed
  // read, or the deadline (the hot path of every REST publish: no race).
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      reading.givenUp = true;
      // Cancelled while a read is under way, the body stays Deno's until
      // that read ends; cancelled after it, it is dropped, and the
      // connection can close (see closingConnection).
      const inFlight = reading.inFlight ?? Promise.resolve();
      resolve(
        new AbandonedBody(
          reading.tooLarge ? "tooLarge" : "late",
          inFlight.then(() => reader.cancel()).then(noop, noop),
        ),
      );
    }, timeoutMs);
    readWithin(reader, limit, declared, reading).then(
      (body) => {
        clearTimeout(timer);
        resolve(body);
      },
      () => {
        // A read that failed (the client went away mid-body, or sent a
        // broken one) ends the body: nothing is under way any more.
        clearTimeout(timer);
        resolve(new AbandonedBody("broken", Promise.resolve()));
      },
    );
  });
}

/** `Content-Length` as a number of bytes; `null` when absent or not one (the body is then read as undeclared). */
function declaredLength(request: Request): number | null {
  const header = request.headers.get("content-length");
  if (header === null || !/^\d+$/.test(header)) return null;
  const length = Number(header);
  return Number.isSafeInteger(length) ? length : null;
}

/** Whether `request` has a body nobody has started reading. */
export function hasUnreadBody(request: Request): boolean {
  return !request.bodyUsed && request.body !== null;
}

/**
 * `response`, given without reading `request`'s body (a refusal before it:
 * 401, 404, 405…): the body is read to its end first (kept up to `limit`
 * bytes), so that the connection can serve the next request; a body still
 * arriving after `timeoutMs` gets the response through
 * {@linkcode closingConnection} instead. Deno
 * would otherwise read an unwanted body for as long as the client sends
 * it, with no deadline.
 */
export async function settleUnreadBody(
  request: Request,
  response: Response,
  limit: number,
  timeoutMs: number,
): Promise<Response> {
  if (!hasUnreadBody(request)) return response;
  const body = await readBody(request, limit, timeoutMs);
  return body instanceof AbandonedBody
    ? await closingConnection(response, body)
    : response;
}

function noop(): void {}

/**
 * Reads the body to its end, keeping it while it is within `limit` bytes;
 * stops when given up on. With a `declared` length (which the server holds
 * the client to), it stops at the last byte instead of asking once more for
 * the end: one read fewer per publish.
 */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
  declared: number | null,
  reading: Reading,
): Promise<string | typeof TOO_LARGE> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (!reading.givenUp) {
    const next = reader.read();
    reading.inFlight = next;
    const { done, value } = await next;
    if (done) break;
    size += value.byteLength;
    if (!reading.tooLarge) {
      if (size > limit) {
        reading.tooLarge = true;
        chunks.length = 0;
      } else {
        chunks.push(value);
      }
    }
    if (size === declared) break;
  }
  return reading.tooLarge ? TOO_LARGE : decode(chunks, size);
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
    "broadcaster: a request body was given up on (too large or too slow); its connection is closed",
};

/**
 * `response` for an {@linkcode AbandonedBody}, sent chunked and then failed on
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
  abandoned: AbandonedBody,
): Promise<Response> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await abandoned.released;
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
