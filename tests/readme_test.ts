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
