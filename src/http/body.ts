/**
 * Reading a request body with a byte limit, so an oversized upload is refused
 * after at most `limit` bytes instead of being buffered whole.
 *
 * @module
 */

/** The outcome of {@linkcode readBody}: the text, or `ok: false` when it is over the limit. */
export type BodyResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false };

/**
 * Reads `request`'s body as UTF-8 text, giving up past `limit` bytes.
 *
 * @example
 * ```ts
 * import { readBody } from "./body.ts";
 *
 * const request = new Request("http://localhost/", { method: "POST", body: "hello" });
 * const body = await readBody(request, 65536);
 * console.log(body.ok ? body.text : "413"); // "hello"
 * ```
 */
export async function readBody(
  request: Request,
  limit: number,
): Promise<BodyResult> {
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > limit) return { ok: false };
    // A declared length within the limit is all the server reads: the native path is safe.
    return { ok: true, text: await request.text() };
  }
  if (request.body === null) return { ok: true, text: "" };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { ok: false };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, text: new TextDecoder().decode(bytes) };
}
