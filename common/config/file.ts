// Reads the manager's config file (YAML, through the `yaml` package so that every problem can name
// its line and column): serve flags by their keys (keys.ts), plus sections such as `rules:` that
// other files read. Every problem is collected, not just the first, for `config check`.

import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { HwError, type ErrorCode } from '../errors.ts';
import { closest, type ConfigKey } from './keys.ts';

/** A config file past this is refused unread: it is a few pages of YAML, not a data set. */
const CONFIG_MAX_BYTES = 1024 * 1024;

export interface ConfigProblem {
  line: number;
  col: number;
  message: string;
  /** what kind of problem, where a reader names one (BAD_GLOB, UNKNOWN_KEY) */
  code?: ErrorCode;
}

/** Where a problem is reported and how a section reader reports one. */
export interface ConfigContext {
  problem(node: Node | null | undefined, message: string, code?: ErrorCode): void;
  /** line and column of a node (1-based; 1:1 when the node has no position) */
  pos(node: Node | null | undefined): { line: number; col: number };
}

/** Reads one top-level section (e.g. `rules:`) into its value, reporting problems through ctx. */
export type SectionReader = (node: Node | null, ctx: ConfigContext) => unknown;
/** Runs after every section was read, for checks across sections; returns the final sections. */
export type SectionsFinish = (sections: Record<string, unknown>, ctx: ConfigContext) => Record<string, unknown>;

export interface ConfigFile {
  path: string;
  /** serve flag values by cac prop (`udpPort`) */
  flags: Record<string, unknown>;
  /** where each flag's value is in the file, by prop */
  positions: Record<string, { line: number; col: number }>;
  /** each section reader's result, by section name */
  sections: Record<string, unknown>;
  problems: ConfigProblem[];
}

export function parseConfigText(text: string, path: string, keys: ConfigKey[], readers: Record<string, SectionReader>, finish?: SectionsFinish): ConfigFile {
  const lineCounter = new LineCounter();
  const problems: ConfigProblem[] = [];
  const pos = (node: Node | null | undefined) => (node?.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 });
  const ctx: ConfigContext = {
    pos,
    problem: (node, message, code) => problems.push({ ...pos(node), message, ...(code ? { code } : {}) }),
  };
  const out: ConfigFile = { path, flags: {}, positions: {}, sections: {}, problems };
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  for (const e of doc.errors) {
    const p = lineCounter.linePos(e.pos[0]);
    problems.push({ ...p, message: e.message.split('\n')[0]! });
  }
  if (doc.errors.length) return out;
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return out;
  if (!isMap(root)) {
    ctx.problem(root, 'the config must be a mapping of keys (port: 5005, rules: ...)');
    return out;
  }
  const byKey = new Map(keys.map((k) => [k.key, k]));
  const known = [...byKey.keys(), ...Object.keys(readers)];
  for (const pair of root.items as Pair<Node, Node | null>[]) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const key = byKey.get(name);
    if (key) {
      readFlag(key, pair.value, ctx, out);
      continue;
    }
    const reader = readers[name];
    if (reader) {
      out.sections[name] = reader(pair.value, ctx);
      continue;
    }
    const hint = closest(name, known);
    ctx.problem(pair.key, `unknown key "${name}"${hint ? `: did you mean "${hint}"?` : `; known keys: ${known.join(', ')}`}`);
  }
  if (finish) out.sections = finish(out.sections, ctx);
  return out;
}

function readFlag(key: ConfigKey, node: Node | null, ctx: ConfigContext, out: ConfigFile): void {
  const scalar = (n: Node | null): unknown => {
    if (!isScalar(n) || n.value === null || typeof n.value === 'object') {
      ctx.problem(n, `${key.key}: expects ${key.boolean ? 'true or false' : 'a value'}`);
      return undefined;
    }
    return n.value;
  };
  let value: unknown;
  if (key.boolean) {
    const v = scalar(node);
    if (v === undefined) return;
    if (typeof v !== 'boolean') return ctx.problem(node, `${key.key}: expects true or false, not "${String(v)}"`);
    // `console: false` is the flag `--no-console`: cac gives it as console === false.
    value = v;
  } else if (isSeq(node)) {
    if (!key.repeatable) return ctx.problem(node, `${key.key}: expects one value, not a list`);
    const items = node.items.map((n) => scalar(n as Node));
    if (items.some((v) => v === undefined)) return;
    value = items.map(String);
  } else {
    value = scalar(node);
    if (value === undefined) return;
    if (typeof value === 'boolean') return ctx.problem(node, `${key.key}: expects a value, not ${value}`);
  }
  out.flags[key.prop] = value;
  out.positions[key.prop] = ctx.pos(node);
}

export function readConfigFile(path: string, keys: ConfigKey[], readers: Record<string, SectionReader>, finish?: SectionsFinish): ConfigFile {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > CONFIG_MAX_BYTES) throw new HwError('BAD_CONFIG', `${path}: over ${CONFIG_MAX_BYTES} bytes; is this the config file?`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof HwError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new HwError('BAD_CONFIG', `cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message}`);
  }
  return parseConfigText(text, path, keys, readers, finish);
}

/** `file:line:col: message [CODE]`, one problem a line (the code where the reader named one). */
export function formatProblems(path: string, problems: ConfigProblem[]): string {
  return problems.map((p) => `${path}:${p.line}:${p.col}: ${p.message}${p.code ? ` [${p.code}]` : ''}`).join('\n');
}

/** The error a refused file raises: coded, its problems listed. */
export function configError(path: string, problems: ConfigProblem[]): HwError {
  return new HwError('BAD_CONFIG', `${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, config not applied:\n${formatProblems(path, problems)}`);
}
