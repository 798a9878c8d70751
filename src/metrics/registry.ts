/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters,
 * gauges read at scrape time, and histograms. Small on purpose: counting must
 * cost the fan-out path nothing measurable, so the hot path only adds to
 * plain numbers and everything else happens when `/metrics` is scraped.
 *
 * @module
 */

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(
    /\n/g,
    "\\n",
  );
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${
    entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",")
  }}`;
}

function number(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

/** Anything the registry can expose. */
export interface Metric {
  /** The metric's name, e.g. `broadcaster_connections`. */
  readonly name: string;
  /** The metric in the text exposition format: HELP, TYPE and its samples. */
  expose(): string;
}

/** One labelled series of a {@linkcode Counter}. */
export interface CounterSeries {
  /** Adds `amount` (1). */
  inc(amount?: number): void;
}

/** A value that only goes up, optionally split by labels. */
export class Counter implements Metric {
  readonly #values = new Map<string, [Labels, number]>();

  /** A counter exposed as `name`, described by `help`. */
  constructor(readonly name: string, readonly help: string) {}

  /** Adds `amount` (1) to the series of `labels`. */
  inc(labels: Labels = {}, amount = 1): void {
    this.#series(labels)[1] += amount;
  }

  /**
   * The series of `labels`, bound once: its `inc` is a plain addition, for
   * counts on a hot path (building the label key costs more than the count).
   */
  series(labels: Labels = {}): CounterSeries {
    const entry = this.#series(labels);
    return {
      inc: (amount = 1) => {
        entry[1] += amount;
      },
    };
  }

  #series(labels: Labels): [Labels, number] {
    const key = labelText(labels);
    let entry = this.#values.get(key);
    if (entry === undefined) {
      entry = [labels, 0];
      this.#values.set(key, entry);
    }
    return entry;
  }

  /** The counter in the text exposition format. */
  expose(): string {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
    ];
    if (this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const [labels, value] of this.#values.values()) {
      lines.push(`${this.name}${labelText(labels)} ${number(value)}`);
    }
    return lines.join("\n");
  }
}

/** A value read when scraped: `type` says whether it may go down. */
export class Sampled implements Metric {
  /** A metric read by `read` at every scrape. */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "gauge" | "counter",
    readonly read: () => number,
  ) {}

  /** The value in the text exposition format. */
  expose(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} ${this.type}`,
      `${this.name} ${number(this.read())}`,
    ].join("\n");
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram implements Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** A histogram with the given upper bounds (`le`), ascending. */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.#counts = buckets.map(() => 0);
  }

  /** Records one observation. */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] ?? 0)) {
        this.#counts[i] = (this.#counts[i] ?? 0) + 1;
        return;
      }
    }
  }

  /** The histogram in the text exposition format. */
  expose(): string {
    const lines = [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
    ];
    let cumulative = 0;
    this.buckets.forEach((bound, i) => {
      cumulative += this.#counts[i] ?? 0;
      lines.push(`${this.name}_bucket{le="${number(bound)}"} ${cumulative}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`);
    lines.push(`${this.name}_sum ${number(this.#sum)}`);
    lines.push(`${this.name}_count ${this.#count}`);
    return lines.join("\n");
  }
}

/**
 * The metrics of one process, exposed together.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const hits = registry.add(new Counter("hits_total", "Hits."));
 * hits.inc();
 * registry.expose(); // "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 1\n"
 * ```
 */
export class Registry {
  readonly #metrics: Metric[] = [];

  /** Registers `metric` and returns it. */
  add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** Every metric in the text format, ending with a newline. */
  expose(): string {
    return `${this.#metrics.map((metric) => metric.expose()).join("\n")}\n`;
  }
}
