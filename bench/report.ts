/**
 * The benchmark's outputs: a table for people, a JSON report for machines, an
 * SVG chart of the ratios to the floor and the fan-out latency distribution.
 *
 * @module
 */

import type { Figures, ScenarioSizes } from "./scenarios.ts";
import type { ServerKind } from "./servers.ts";

/** Figures of every scenario on every server. */
export type Results = Record<string, Partial<Record<ServerKind, Figures>>>;

/** A target the server must meet, as a ratio to the floor or an absolute bound. */
export interface Target {
  readonly label: string;
  readonly scenario: string;
  readonly metric: string;
  /** `ratio`: broadcaster ÷ floor ≤ limit; `absolute`: broadcaster ≤ limit. */
  readonly kind: "ratio" | "absolute";
  readonly limit: number;
}

/** The targets of the issues that defined the benchmark (4) and its costs (10). */
export const TARGETS: readonly Target[] = [
  {
    label: "CPU per delivery (fan-out)",
    scenario: "fanOut",
    metric: "cpuPerDeliveryUs",
    kind: "ratio",
    limit: 1.25,
  },
  {
    label: "p99 latency (fan-out)",
    scenario: "fanOut",
    metric: "latencyP99Ms",
    kind: "ratio",
    limit: 1.5,
  },
  {
    label: "RSS per idle connection",
    scenario: "idle",
    metric: "rssPerIdleConnectionKiB",
    kind: "ratio",
    limit: 1.3,
  },
  {
    label:
      "CPU per delivery (many channels: a WebSocket publish to one subscriber)",
    scenario: "manyChannels",
    metric: "cpuPerDeliveryUs",
    kind: "ratio",
    limit: 1.3,
  },
  {
    label: "p99 latency (many channels)",
    scenario: "manyChannels",
    metric: "latencyP99Ms",
    kind: "ratio",
    limit: 1.3,
  },
  {
    label: "CPU per connection set-up (connect + auth + subscribe)",
    scenario: "setup",
    metric: "cpuPerSetupUs",
    kind: "ratio",
    limit: 1.4,
  },
  {
    label: "CPU per REST publish",
    scenario: "rest",
    metric: "cpuPerRestPublishUs",
    kind: "ratio",
    limit: 1.5,
  },
  {
    label:
      "CPU per recovered message ÷ per live delivery (reconnect storm, set-ups included)",
    scenario: "reconnectStorm",
    metric: "recoveredToLiveRatio",
    kind: "absolute",
    limit: 2,
  },
  {
    label: "messages lost (reconnect storm)",
    scenario: "reconnectStorm",
    metric: "lost",
    kind: "absolute",
    limit: 0,
  },
  {
    label:
      "CPU per join + leave ÷ per connect + subscribe without presence (churn in a 5000-member channel)",
    scenario: "presence",
    metric: "churnCpuRatio",
    kind: "absolute",
    limit: 3,
  },
  {
    label: "presence on a 5000-member channel, slowest of 20 (ms)",
    scenario: "presence",
    metric: "presenceMaxMs",
    kind: "absolute",
    limit: 50,
  },
  {
    label:
      "CPU per delivery through 10,000 pattern subscriptions ÷ through plain ones",
    scenario: "patterns",
    metric: "patternToPlainRatio",
    kind: "absolute",
    limit: 1.5,
  },
  {
    label: "seq gaps (patterns)",
    scenario: "patterns",
    metric: "seqGaps",
    kind: "absolute",
    limit: 0,
  },
  {
    label:
      "CPU per delivery, fan-out to 1000 RTC clients (/ws) ÷ to 1000 native ones (issue 16)",
    scenario: "rtcFanOut",
    metric: "rtcToNativeRatio",
    kind: "absolute",
    limit: 1.3,
  },
  {
    label:
      "count updates per Nova viewer per second while 200 viewers a second join and leave a 5000-viewer stream (issue 17)",
    scenario: "nova",
    metric: "countUpdatesPerViewerPerSecond",
    kind: "absolute",
    limit: 10,
  },
  {
    label: "CPU per Nova join+leave ÷ per native connect+subscribe+close",
    scenario: "nova",
    metric: "joinLeaveToNativeRatio",
    kind: "absolute",
    limit: 3,
  },
  {
    label: "CPU per delivery, stream events to 5000 Nova viewers ÷ native",
    scenario: "nova",
    metric: "fanOutToNativeRatio",
    kind: "absolute",
    limit: 1.3,
  },
  {
    label: "messages lost (Nova)",
    scenario: "nova",
    metric: "lost",
    kind: "absolute",
    limit: 0,
  },
  {
    label:
      "CPU per upgrade refused before it (MAX_CONNECTIONS) ÷ per successful connect (issue 19)",
    scenario: "refusals",
    metric: "refusalToConnectRatio",
    kind: "absolute",
    limit: 1,
  },
  {
    label: "messages lost (RTC fan-out)",
    scenario: "rtcFanOut",
    metric: "lost",
    kind: "absolute",
    limit: 0,
  },
  {
    label: "messages lost (patterns)",
    scenario: "patterns",
    metric: "lost",
    kind: "absolute",
    limit: 0,
  },
  {
    label: "messages lost (fan-out)",
    scenario: "fanOut",
    metric: "lost",
    kind: "absolute",
    limit: 0,
  },
  {
    label: "seq gaps (fan-out)",
    scenario: "fanOut",
    metric: "seqGaps",
    kind: "absolute",
    limit: 0,
  },
  {
    label: "messages lost (many channels)",
    scenario: "manyChannels",
    metric: "lost",
    kind: "absolute",
    limit: 0,
  },
  {
    label: "seq gaps (many channels)",
    scenario: "manyChannels",
    metric: "seqGaps",
    kind: "absolute",
    limit: 0,
  },
];

/** How a target fared. */
export interface TargetOutcome extends Target {
  readonly value: number;
  readonly pass: boolean;
}

/** The whole report, as written to JSON. */
export interface Report {
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly sizes: ScenarioSizes;
  readonly results: Results;
  /** Fan-out latency at percentiles 0, 1, …, 99, 99.9, 100, per server. */
  readonly latencyPercentiles: Partial<Record<ServerKind, number[]>>;
  readonly targets: readonly TargetOutcome[];
}

/** Broadcaster ÷ floor for one figure, or NaN when either is missing. */
export function ratio(
  results: Results,
  scenario: string,
  metric: string,
): number {
  const ours = results[scenario]?.broadcaster?.[metric];
  const floor = results[scenario]?.floor?.[metric];
  if (ours === undefined || floor === undefined || floor === 0) {
    return Number.NaN;
  }
  return ours / floor;
}

/** Checks every target that the run measured. */
export function checkTargets(results: Results): TargetOutcome[] {
  return TARGETS.flatMap((target) => {
    const value = target.kind === "ratio"
      ? ratio(results, target.scenario, target.metric)
      : results[target.scenario]?.broadcaster?.[target.metric];
    if (value === undefined || Number.isNaN(value)) return [];
    return [{ ...target, value, pass: value <= target.limit }];
  });
}

/** Percentiles 0..99, 99.9 and 100 of sorted-or-not `values`. */
export function percentiles(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return [
    ...Array.from({ length: 100 }, (_, i) => at(i / 100)),
    at(0.999),
    at(1),
  ];
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "–";
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** The table printed on stdout. */
export function table(report: Report): string {
  const rows: string[][] = [[
    "scenario",
    "figure",
    "broadcaster",
    "floor",
    "ratio",
  ]];
  for (const [scenario, byServer] of Object.entries(report.results)) {
    const metrics = new Set([
      ...Object.keys(byServer.broadcaster ?? {}),
      ...Object.keys(byServer.floor ?? {}),
    ]);
    for (const metric of metrics) {
      rows.push([
        scenario,
        metric,
        format(byServer.broadcaster?.[metric]),
        format(byServer.floor?.[metric]),
        format(ratio(report.results, scenario, metric)),
      ]);
    }
  }
  const widths =
    rows[0]?.map((_, column) =>
      Math.max(...rows.map((row) => row[column]?.length ?? 0))
    ) ?? [];
  const line = (row: string[]) =>
    row.map((cell, column) =>
      column < 2
        ? cell.padEnd(widths[column] ?? 0)
        : cell.padStart(widths[column] ?? 0)
    ).join("  ");
  const targets = report.targets.map((target) =>
    `${target.pass ? "PASS" : "FAIL"}  ${target.label}: ${
      format(target.value)
    }${target.kind === "ratio" ? "×" : ""} (target ≤ ${target.limit}${
      target.kind === "ratio" ? "× the floor" : ""
    })`
  );
  return [line(rows[0] ?? []), ...rows.slice(1).map(line), "", ...targets].join(
    "\n",
  );
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/** The SVG chart: ratios to the floor (with targets), and fan-out latency percentiles. */
export function chart(report: Report): string {
  const width = 960;
  const height = 420;
  const parts: string[] = [];
  const text = (x: number, y: number, content: string, extra = "") =>
    parts.push(`<text x="${x}" y="${y}" ${extra}>${escape(content)}</text>`);

  // Left: ratio bars.
  const bars = [
    ["CPU/delivery fan-out", "fanOut", "cpuPerDeliveryUs", 1.25],
    ["CPU/delivery channels", "manyChannels", "cpuPerDeliveryUs", 1.3],
    ["p99 latency fan-out", "fanOut", "latencyP99Ms", 1.5],
    ["p99 latency channels", "manyChannels", "latencyP99Ms", 1.3],
    ["RSS/idle connection", "idle", "rssPerIdleConnectionKiB", 1.3],
    ["CPU/setup", "setup", "cpuPerSetupUs", 1.4],
    ["CPU/REST publish", "rest", "cpuPerRestPublishUs", 1.5],
  ] as const;
  const left = { x: 170, y: 50, w: 280, h: 300 };
  const maxRatio = Math.max(
    2,
    ...bars.map(([, s, m]) => ratio(report.results, s, m)).filter((r) =>
      !Number.isNaN(r)
    ),
  );
  const scaleX = (r: number) => left.x + (r / maxRatio) * left.w;
  text(20, 28, "Broadcaster ÷ floor (lower is better)", 'font-weight="bold"');
  const rowHeight = left.h / bars.length;
  bars.forEach(([label, scenario, metric, limit], i) => {
    const y = left.y + i * rowHeight;
    const r = ratio(report.results, scenario, metric);
    text(left.x - 8, y + rowHeight / 2 + 4, label, 'text-anchor="end"');
    if (!Number.isNaN(r)) {
      const fill = !Number.isNaN(limit) && r > limit ? "#d9534f" : "#4a90d9";
      parts.push(
        `<rect x="${left.x}" y="${y + 8}" width="${
          scaleX(r) - left.x
        }" height="${rowHeight - 16}" fill="${fill}"/>`,
      );
      // After the bar, or after the target line when that is further right.
      const labelX = Math.max(
        scaleX(r),
        Number.isNaN(limit) ? 0 : scaleX(limit),
      );
      text(labelX + 4, y + rowHeight / 2 + 4, `${r.toFixed(2)}×`);
    }
    if (!Number.isNaN(limit)) {
      parts.push(
        `<line x1="${scaleX(limit)}" x2="${scaleX(limit)}" y1="${y + 4}" y2="${
          y + rowHeight - 4
        }" stroke="#333" stroke-dasharray="4 3"/>`,
      );
    }
  });
  parts.push(
    `<line x1="${scaleX(1)}" x2="${scaleX(1)}" y1="${left.y}" y2="${
      left.y + left.h
    }" stroke="#999"/>`,
  );
  text(
    scaleX(1),
    left.y + left.h + 16,
    "1× (floor)",
    'text-anchor="middle" fill="#666"',
  );
  text(left.x, left.y + left.h + 34, "dashed: target", 'fill="#666"');

  // Right: latency percentiles at fan-out.
  const right = { x: 580, y: 50, w: 340, h: 300 };
  text(
    right.x - 40,
    28,
    "Fan-out publish→receive latency (ms)",
    'font-weight="bold"',
  );
  const series = Object.entries(report.latencyPercentiles) as [
    ServerKind,
    number[],
  ][];
  const maxLatency = Math.max(1, ...series.flatMap(([, values]) => values));
  const px = (i: number, count: number) =>
    right.x + (i / (count - 1)) * right.w;
  const py = (ms: number) => right.y + right.h - (ms / maxLatency) * right.h;
  parts.push(
    `<rect x="${right.x}" y="${right.y}" width="${right.w}" height="${right.h}" fill="none" stroke="#ccc"/>`,
  );
  const colours: Record<ServerKind, string> = {
    broadcaster: "#4a90d9",
    floor: "#999",
  };
  series.forEach(([kind, values], index) => {
    const points = values.map((ms, i) =>
      `${px(i, values.length).toFixed(1)},${py(ms).toFixed(1)}`
    );
    parts.push(
      `<polyline points="${points.join(" ")}" fill="none" stroke="${
        colours[kind]
      }" stroke-width="2"/>`,
    );
    text(
      right.x + 10,
      right.y + 18 + index * 16,
      kind,
      `fill="${colours[kind]}"`,
    );
  });
  text(right.x, right.y + right.h + 16, "p0");
  text(right.x + right.w, right.y + right.h + 16, "p100", 'text-anchor="end"');
  text(right.x - 6, right.y + 10, format(maxLatency), 'text-anchor="end"');
  text(right.x - 6, right.y + right.h, "0", 'text-anchor="end"');
  text(
    20,
    height - 12,
    `${report.date} · ${report.machine.cpu} · ${report.machine.cores} cores · deno ${report.machine.deno}`,
    'fill="#666"',
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${parts.join("\n")}
</svg>
`;
}
