/** The benchmark's report: ratios, targets, and the SVG chart. */

import assert from "node:assert/strict";
import {
  chart,
  checkTargets,
  percentiles,
  ratio,
  type Report,
  table,
} from "../../bench/report.ts";
import { DEFAULT_SIZES } from "../../bench/scenarios.ts";

const results = {
  fanOut: {
    broadcaster: {
      cpuPerDeliveryUs: 12,
      latencyP99Ms: 30,
      lost: 0,
      seqGaps: 0,
    },
    floor: { cpuPerDeliveryUs: 10, latencyP99Ms: 20, lost: 0, seqGaps: 0 },
  },
  idle: {
    broadcaster: { rssPerIdleConnectionKiB: 40 },
    floor: { rssPerIdleConnectionKiB: 20 },
  },
};

Deno.test("ratios divide the broadcaster's figure by the floor's", () => {
  assert.equal(ratio(results, "fanOut", "cpuPerDeliveryUs"), 1.2);
  assert.ok(Number.isNaN(ratio(results, "rest", "cpuPerRestPublishUs")));
});

Deno.test("targets pass and fail on the issue's limits", () => {
  const outcomes = checkTargets(results);
  const byLabel = Object.fromEntries(outcomes.map((o) => [o.label, o.pass]));
  assert.equal(byLabel["CPU per delivery (fan-out)"], true);
  assert.equal(byLabel["p99 latency (fan-out)"], true); // exactly 1.5×
  assert.equal(byLabel["RSS per idle connection"], false); // 2×
  assert.equal(byLabel["messages lost (fan-out)"], true);
  // Scenarios not run are not judged.
  assert.equal(byLabel["messages lost (many channels)"], undefined);
});

Deno.test("percentiles cover 0..99, 99.9 and 100", () => {
  const values = percentiles(Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(values.length, 102);
  assert.equal(values[0], 0);
  assert.equal(values[50], 500);
  assert.equal(values[100], 999);
  assert.equal(values[101], 999);
});

Deno.test("the table and the chart carry every figure and target", () => {
  const report: Report = {
    date: "2026-11-22T00:00:00.000Z",
    machine: { cpu: "test <cpu>", cores: 2, deno: "2.9.6" },
    sizes: DEFAULT_SIZES,
    results,
    latencyPercentiles: { broadcaster: [1, 2, 3], floor: [1, 1, 2] },
    targets: checkTargets(results),
  };
  const text = table(report);
  assert.match(text, /fanOut\s+cpuPerDeliveryUs\s+12\s+10\s+1\.20/);
  assert.match(text, /FAIL {2}RSS per idle connection: 2×/);
  const svg = chart(report);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /1\.20×/);
  assert.match(svg, /test &lt;cpu>/, "text is escaped");
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
});
