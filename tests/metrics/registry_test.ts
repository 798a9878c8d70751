/** The Prometheus text format: counters with labels, sampled values, histograms. */

import assert from "node:assert/strict";
import {
  Counter,
  Histogram,
  Registry,
  Sampled,
} from "../../src/metrics/registry.ts";

Deno.test("counters expose HELP, TYPE and one line per label set, escaped", () => {
  const registry = new Registry();
  const counter = registry.add(new Counter("x_total", "Things."));
  assert.equal(
    registry.expose(),
    "# HELP x_total Things.\n# TYPE x_total counter\nx_total 0\n",
  );
  counter.inc({ reason: 'bad "token"\\n' });
  counter.inc({ reason: 'bad "token"\\n' }, 2);
  counter.inc({ reason: "other" });
  assert.equal(
    registry.expose(),
    '# HELP x_total Things.\n# TYPE x_total counter\nx_total{reason="bad \\"token\\"\\\\n"} 3\nx_total{reason="other"} 1\n',
  );
});

Deno.test("sampled values are read at scrape time", () => {
  let value = 1;
  const registry = new Registry();
  registry.add(new Sampled("g", "A gauge.", "gauge", () => value));
  assert.match(registry.expose(), /^g 1$/m);
  value = 7;
  assert.match(registry.expose(), /^# TYPE g gauge$\n^g 7$/m);
});

Deno.test("histograms are cumulative, with +Inf, sum and count", () => {
  const registry = new Registry();
  const histogram = registry.add(
    new Histogram("d_seconds", "Durations.", [0.1, 1]),
  );
  for (const value of [0.05, 0.5, 0.5, 3]) histogram.observe(value);
  assert.equal(
    registry.expose(),
    [
      "# HELP d_seconds Durations.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="0.1"} 1',
      'd_seconds_bucket{le="1"} 3',
      'd_seconds_bucket{le="+Inf"} 4',
      "d_seconds_sum 4.05",
      "d_seconds_count 4",
      "",
    ].join("\n"),
  );
});
