// The Prometheus text exposition format 0.0.4: metric families, each with one HELP and one TYPE
// line before its samples, label values escaped, the body ending with a newline.

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'gauge' | 'counter' | 'untyped';
export type Labels = Record<string, string>;

interface Family {
  help: string;
  type: MetricType;
  samples: string[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_ESCAPE = /[\\"\n]/;
/** Label names already checked (a fleet's scrape uses the same few names a hundred thousand times). */
const goodLabels = new Set<string>();

/** A label value as the format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Collects families in the order they are declared; samples may be added to any family later. */
export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Declares a family; declaring it again with the same type is a no-op. */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
    const f = this.families.get(name);
    if (f && f.type !== type) throw new Error(`metric ${name} declared as ${f.type} and ${type}`);
    if (!f) this.families.set(name, { help, type, samples: [] });
    return this;
  }

  /**
   * One sample. A value that is null, undefined or not finite is left out: a reading the agent
   * could not make is absent from the output, never a 0.
   */
  sample(name: string, labels: Labels, value: number | null | undefined): this {
    if (value === null || value === undefined || !Number.isFinite(value)) return this;
    const f = this.families.get(name);
    if (!f) throw new Error(`metric ${name} sampled before it was declared`);
    const parts: string[] = [];
    for (const k in labels) {
      if (!goodLabels.has(k)) {
        if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`bad label name ${k}`);
        goodLabels.add(k);
      }
      parts.push(`${k}="${escapeLabelValue(labels[k]!)}"`);
    }
    f.samples.push(parts.length ? `${name}{${parts.join(',')}} ${formatValue(value)}` : `${name} ${formatValue(value)}`);
    return this;
  }

  /** The body. Families without a sample are left out (promtool calls an empty family a problem). */
  text(): string {
    let out = '';
    for (const [name, f] of this.families) {
      if (!f.samples.length) continue;
      out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n${f.samples.join('\n')}\n`;
    }
    return out;
  }
}
