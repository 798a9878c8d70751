/**
 * The API-key check every REST route shares.
 *
 * @module
 */

import { type ApiKeys, credentialFromHeader } from "../auth/api_key.ts";
import { errorResponse, type HeaderList } from "./responses.ts";

/**
 * `null` when `request` carries one of the API keys; otherwise the 401 to
 * answer with (carrying `headers`, e.g. CORS).
 */
export function refuseWithoutApiKey(
  request: Request,
  apiKeys: ApiKeys,
  headers: HeaderList,
): Response | null {
  const credential = credentialFromHeader(request.headers.get("authorization"));
  if (credential === null) {
    return errorResponse(
      "Unauthenticated",
      "missing API key: send Authorization: Bearer <key>",
      { headers },
    );
  }
  if (!apiKeys.accepts(credential)) {
    return errorResponse("Unauthenticated", "invalid API key", { headers });
  }
  return null;
}
