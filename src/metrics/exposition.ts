/** The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector reads it. */

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  /** Upper bounds of the buckets, ascending, without +Inf. */
  bounds: readonly number[];
  /** Non-cumulative counts: one per bound, then the +Inf bucket. */
  buckets: number[];
  sum: number;
  count: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'gauge' | 'counter'; samples: Sample[] }
  | { name: string; help: string; type: 'histogram'; samples: HistogramSample[] };

/** Each family as HELP and TYPE lines followed by its samples (no timestamps: the textfile collector refuses them). */
export function renderExposition(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const sample of family.samples) lines.push(...histogramLines(family.name, sample));
    } else {
      for (const sample of family.samples) lines.push(sampleLine(family.name, sample.labels, sample.value));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Cumulative `_bucket{le}` lines ending with +Inf, then `_sum` and `_count`. */
function histogramLines(name: string, sample: HistogramSample): string[] {
  let cumulative = 0;
  const lines = sample.bounds.map((bound, i) => {
    cumulative += sample.buckets[i] ?? 0;
    return sampleLine(`${name}_bucket`, { ...sample.labels, le: formatValue(bound) }, cumulative);
  });
  lines.push(sampleLine(`${name}_bucket`, { ...sample.labels, le: '+Inf' }, sample.count));
  lines.push(sampleLine(`${name}_sum`, sample.labels, sample.sum));
  lines.push(sampleLine(`${name}_count`, sample.labels, sample.count));
  return lines;
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([key, v]) => `${key}="${escapeLabelValue(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** In label values, backslash, double quote and line feed are escaped. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** In HELP text, backslash and line feed are escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
