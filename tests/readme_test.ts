/**
 * The README as an operator pastes from it: no placeholders to fill in, no
 * task that does not exist, browser snippets that work over TLS too.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };

const README = await Deno.readTextFile(
  new URL("../README.md", import.meta.url),
);

Deno.test("no <owner>-style placeholders in commands", () => {
  assert.doesNotMatch(README, /<owner>|<your[-_ ]/i);
});

Deno.test("every `deno task` the README names exists", () => {
  const tasks = new Set(Object.keys(denoJson.tasks));
  const named = [...README.matchAll(/deno task ([a-z:]+)/g)].map((match) =>
    match[1] ?? ""
  );
  assert.ok(named.length > 0);
  for (const task of named) assert.ok(tasks.has(task), `deno task ${task}`);
});

Deno.test("browser snippets pick ws: or wss: from the page's protocol", () => {
  const fixed = [...README.matchAll(/`wss?:\/\/\$\{location\.host\}/g)];
  assert.deepEqual(fixed.map((match) => match[0]), []);
  assert.match(README, /location\.protocol === "https:" \? "wss" : "ws"/);
});

Deno.test("the README's direct-message example, run as written (only the port is the test server's)", async () => {
  const { serve, token } = await import("./support/server.ts");
  const { TestClient } = await import("./support/client.ts");
  const block = [...README.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? "")
    .find((code) => code.includes('bob.publish("#alice"'));
  assert.ok(block !== undefined, "the example is in the README");
  await using fixture = await serve();
  await using alice = await TestClient.authed(fixture.websocketUrl);
  await alice.ok("subscribe", { channel: "#alice" });
  const port = new URL(fixture.base).port;
  // Next to the README, so its ./src import resolves as it does for a reader.
  const file = new URL(`../readme_example_${port}.ts`, import.meta.url);
  await Deno.writeTextFile(
    file,
    block.replace("127.0.0.1:8000", `127.0.0.1:${port}`),
  );
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", file.pathname],
      env: { TOKEN: token({ sub: "bob", scope: ["direct"] }) },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  } finally {
    await Deno.remove(file);
  }
  const dm = await alice.broadcast();
  assert.equal(dm.from, "bob");
  assert.deepEqual(dm.payload, { text: "hi Alice" });
});

/** The README's code block of `language` that contains `marker`. */
function block(language: string, marker: string): string {
  const found = [
    ...README.matchAll(
      new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"),
    ),
  ]
    .map((match) => match[1] ?? "")
    .find((code) => code.includes(marker));
  assert.ok(found !== undefined, `a ${language} block with ${marker}`);
  return found;
}

Deno.test("the README's example config file is valid", async () => {
  const { parseConfigFile } = await import("../src/config_file.ts");
  const parsed = parseConfigFile(block("json", '"namespaces"'));
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.problems.join("; "));
  assert.equal(parsed.file.namespaces.chat?.historySize, 200);
  assert.equal(parsed.file.webhooks.length, 1);
  assert.equal(parsed.file.apps[0]?.path, "/world");
});

Deno.test("the README's signature check accepts what the server signs, and nothing else", async () => {
  const { Signer } = await import("../src/http/signature.ts");
  const file = new URL("../readme_verifier.ts", import.meta.url);
  await Deno.writeTextFile(
    file,
    `${block("ts", "async function verified(")}\nexport { verified };\n`,
  );
  try {
    const { verified } = await import(file.href);
    const body =
      '{"timeMs":1,"events":[{"name":"channel_occupied","channel":"room1"}]}';
    const signature = await new Signer("s3cret").sign(body);
    const request = (header: string) =>
      new Request("http://backend/", {
        method: "POST",
        body,
        headers: { "x-broadcaster-signature": header },
      });
    assert.deepEqual(
      await verified(request(signature), "s3cret"),
      JSON.parse(body),
    );
    assert.equal(await verified(request(signature), "other"), null);
    assert.equal(await verified(request("sha256=00"), "s3cret"), null);
  } finally {
    await Deno.remove(file);
  }
});
