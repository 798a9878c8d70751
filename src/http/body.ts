/**
 * Reading a request body with a byte limit, so an oversized upload is refused
 * after at most `limit` bytes instead of being buffered whole.
 *
 * @module
 */

/** What {@linkcode readBody} answers for a body that did not arrive in time. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Reads `request`'s body as UTF-8 text; `null` past `limit` bytes. A body
 * that has not arrived within `timeoutMs` is given up on
 * ({@linkcode TIMED_OUT}, SPEC §12: a client trickling a byte a second
 * must not hold a request for ever).
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
): Promise<string | null | typeof TIMED_OUT> {
  const reading = readWithin(request, limit);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([reading, late]);
  } finally {
    clearTimeout(timer);
    // The reading given up on ends with its connection: nobody waits for it.
    reading.catch(() => {});
  }
}

/**
 * The body within `limit` bytes. Not an async function: with a declared
 * length (the common case) it hands on `request.text()` itself.
 */
function readWithin(
  request: Request,
  limit: number,
): Promise<string | null> {
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > limit) return Promise.resolve(null);
    // A declared length within the limit is all the server reads: the native path is safe.
    return request.text();
  }
  if (request.body === null) return Promise.resolve("");
  return readStream(request.body, limit);
}

/** Reads a body of undeclared length, cancelling it once it passes `limit` bytes. */
async function readStream(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
