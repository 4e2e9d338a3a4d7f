// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went within a window: self and
// inclusive time per function, mapped through the bundle's inline source map back to the .ts file
// and line, so a finding can name common/...ts:line.

import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './procs.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  where: string;
  fn: string;
  selfMs: number;
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  windowMs: number;
  sampledMs: number;
  /** share of samples not idle */
  busyPct: number;
  bySelf: HotSpot[];
  /** our own functions (common/, scripts/, the entry files) by inclusive time */
  oursByTotal: HotSpot[];
}

/** Monotonic clock in microseconds, the one V8's profile timestamps use (CLOCK_MONOTONIC). */
export const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

// ---- source maps ---------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

interface SourceMap {
  sources: string[];
  /** per generated line: segments [genCol, srcIdx, srcLine, srcCol] */
  lines: number[][][];
  dir: string;
}

function decodeMappings(mappings: string): number[][][] {
  const lines: number[][][] = [];
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  let name = 0;
  for (const line of mappings.split(';')) {
    const segs: number[][] = [];
    let genCol = 0;
    if (line) {
      for (const seg of line.split(',')) {
        const v: number[] = [];
        let value = 0;
        let shift = 0;
        for (const ch of seg) {
          const digit = B64.indexOf(ch);
          value += (digit & 31) << shift;
          if (digit & 32) {
            shift += 5;
          } else {
            v.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        genCol += v[0] ?? 0;
        if (v.length >= 4) {
          src += v[1]!;
          srcLine += v[2]!;
          srcCol += v[3]!;
          if (v.length >= 5) name += v[4]!;
          segs.push([genCol, src, srcLine, srcCol]);
        }
      }
    }
    lines.push(segs);
  }
  return lines;
}

const maps = new Map<string, SourceMap | null>();
function sourceMapOf(url: string): SourceMap | null {
  if (maps.has(url)) return maps.get(url)!;
  let map: SourceMap | null = null;
  try {
    const file = url.startsWith('file://') ? fileURLToPath(url) : url;
    const text = readFileSync(file, 'utf8');
    const m = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(text);
    if (m) {
      const raw = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'));
      // A bundle copied to .build/bench-run-<pid>/ (snapshotBuild) keeps the paths of .build/.
      const dir = /^bench-run-\d+$/.test(basename(dirname(file))) ? dirname(dirname(file)) : dirname(file);
      map = { sources: raw.sources, lines: decodeMappings(raw.mappings), dir };
    }
  } catch {
    map = null;
  }
  maps.set(url, map);
  return map;
}

/** "common/manager/state.ts:123" for a bundle position, or the url and line as they are. */
function locate(cf: CallFrame): string {
  if (!cf.url) return '(native)';
  const map = sourceMapOf(cf.url);
  if (map) {
    const segs = map.lines[cf.lineNumber];
    if (segs?.length) {
      let best = segs[0]!;
      for (const s of segs) {
        if (s[0]! <= cf.columnNumber) best = s;
        else break;
      }
      const src = relative(ROOT, resolve(map.dir, map.sources[best[1]!]!));
      return `${src}:${best[2]! + 1}`;
    }
  }
  const u = cf.url.replace(/^file:\/\//, '');
  return `${u.startsWith(ROOT) ? relative(ROOT, u) : u}:${cf.lineNumber + 1}`;
}

// ---- summary -------------------------------------------------------------------------------------

/** Newest .cpuprofile in `dir`. */
export function newestProfile(dir: string): string | null {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.length ? join(dir, files[files.length - 1]!) : null;
}

/**
 * Self and inclusive time per function for the samples taken between `fromUs` and `toUs`
 * (monotonic microseconds, see monoUs); the whole profile when they are omitted.
 */
export function summarize(path: string, fromUs = -Infinity, toUs = Infinity, top = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = new Map<number, string>();
  const info = new Map<string, { where: string; fn: string }>();
  const key = (id: number): string => {
    let k = keyOf.get(id);
    if (k) return k;
    const cf = byId.get(id)!.callFrame;
    const where = locate(cf);
    const fn = cf.functionName || '(anonymous)';
    k = `${fn}@${where}`;
    keyOf.set(id, k);
    info.set(k, { where, fn });
    return k;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let t = p.startTime;
  let sampled = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    // The time until the next sample is what this one stands for.
    const w = (p.timeDeltas[i + 1] ?? dt) / 1000;
    const id = p.samples[i]!;
    sampled += w;
    const fn = byId.get(id)!.callFrame.functionName;
    if (fn === '(idle)') {
      idle += w;
      continue;
    }
    const k = key(id);
    self.set(k, (self.get(k) ?? 0) + w);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const kk = key(n);
      if (seen.has(kk)) continue;
      seen.add(kk);
      total.set(kk, (total.get(kk) ?? 0) + w);
    }
  }
  const busy = sampled - idle;
  const spot = (k: string): HotSpot => ({
    ...info.get(k)!, selfMs: self.get(k) ?? 0, totalMs: total.get(k) ?? 0,
    selfPct: busy ? ((self.get(k) ?? 0) / busy) * 100 : 0, totalPct: busy ? ((total.get(k) ?? 0) / busy) * 100 : 0,
  });
  const bySelf = [...self.keys()].sort((a, b) => self.get(b)! - self.get(a)!).slice(0, top).map(spot);
  const ours = /^(common\/|scripts\/|manager\.ts|agent\.ts)/;
  const oursByTotal = [...total.keys()].filter((k) => ours.test(info.get(k)!.where))
    .sort((a, b) => total.get(b)! - total.get(a)!).slice(0, top).map(spot);
  const windowMs = (Math.min(toUs, p.endTime) - Math.max(fromUs, p.startTime)) / 1000;
  return { windowMs, sampledMs: sampled, busyPct: sampled ? (busy / sampled) * 100 : 0, bySelf, oursByTotal };
}

/** Markdown lines for a summary. */
export function profileMarkdown(title: string, s: ProfileSummary): string[] {
  const row = (h: HotSpot) => `| \`${h.fn}\` | ${h.where} | ${h.selfMs.toFixed(0)} ms (${h.selfPct.toFixed(1)}%) | ${h.totalMs.toFixed(0)} ms (${h.totalPct.toFixed(1)}%) |`;
  return [
    `${title}: ${(s.sampledMs / 1000).toFixed(1)} s sampled, busy ${s.busyPct.toFixed(s.busyPct < 1 ? 3 : 1)}% of it. Percentages are of the busy time.`,
    '',
    '| function (by self time) | where | self | inclusive |',
    '|---|---|---|---|',
    ...s.bySelf.map(row),
    '',
    '| our function (by inclusive time) | where | self | inclusive |',
    '|---|---|---|---|',
    ...s.oursByTotal.map(row),
    '',
  ];
}
