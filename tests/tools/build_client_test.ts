/** The committed client bundle is what `deno task build:client` makes of the SDK today. */

import assert from "node:assert/strict";
import { bundleClient, generatedModule } from "../../tools/build_client.ts";

Deno.test("src/client/bundle.generated.ts is up to date (else: deno task build:client)", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../src/client/bundle.generated.ts", import.meta.url),
  );
  assert.equal(committed, generatedModule(await bundleClient()));
});
