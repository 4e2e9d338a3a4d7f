// The slow, unchanging part of the status: CPU model, OS distribution, machine maker and model,
// from systeminformation. It spawns processes (lscpu, cat, PowerShell on Windows), so the Collector
// asks once and keeps the answer. si answers '' where it found nothing (Wine has no PowerShell):
// that is reported unavailable, not passed on as a value.
// Loaded on the first `status`, not at start: the library is most of the agent's code, and an
// agent that is never asked for a status should not pay its memory and start-up time.
import type * as SiModule from 'systeminformation';
import type { FullStatus } from './types.ts';

/** systeminformation lookups for the static part of `status`. */
const SI_TIMEOUT_MS = 15_000;

export interface StaticInfo {
  cpuModel: string | null;
  cpuSpeedMHz: number | null;
  os: FullStatus['os'];
  system: FullStatus['system'];
  unavailable: Record<string, string>;
  /** A lookup did not answer in time; worth asking again later. */
  timedOut: boolean;
}

class Timeout extends Error {}

/** Drops the fields si left empty, so a reader never takes '' for an answer. */
function nonEmpty<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== '' && v !== undefined && v !== null) out[k as keyof T] = v as T[keyof T];
  return out;
}

function withTimeout<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`${what}: no answer in ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

export type SiSubset = Pick<typeof SiModule, 'cpu' | 'osInfo' | 'system'>;

async function loadSi(): Promise<SiSubset> {
  const m = (await import('systeminformation')) as unknown as SiSubset & { default?: SiSubset };
  return m.default ?? m;
}

export async function staticInfo(given?: SiSubset, timeoutMs = SI_TIMEOUT_MS): Promise<StaticInfo> {
  const lib = given ?? (await loadSi());
  const [cpu, osd, sys] = await Promise.allSettled([
    withTimeout(lib.cpu(), 'systeminformation cpu()', timeoutMs),
    withTimeout(lib.osInfo(), 'systeminformation osInfo()', timeoutMs),
    withTimeout(lib.system(), 'systeminformation system()', timeoutMs),
  ]);
  const info: StaticInfo = { cpuModel: null, cpuSpeedMHz: null, os: null, system: null, unavailable: {}, timedOut: false };
  const fail = (field: string, reason: unknown) => {
    if (reason instanceof Timeout) info.timedOut = true;
    info.unavailable[field] = reason instanceof Error ? reason.message : String(reason);
  };

  if (cpu.status === 'fulfilled') {
    const model = `${cpu.value.manufacturer ?? ''} ${cpu.value.brand ?? ''}`.trim();
    if (model) info.cpuModel = model;
    if (cpu.value.speed > 0) info.cpuSpeedMHz = Math.round(cpu.value.speed * 1000);
  }
  // No cpu entry in `unavailable`: the Collector falls back to os.cpus(), which always has a model.
  if (cpu.status === 'rejected' && cpu.reason instanceof Timeout) info.timedOut = true;

  if (osd.status === 'fulfilled') {
    const { distro, release, kernel, codename } = osd.value;
    if (distro || release || kernel) info.os = nonEmpty({ distro, release, kernel, codename });
    else info.unavailable.os = 'systeminformation found no OS details';
  } else fail('os', osd.reason);

  if (sys.status === 'fulfilled') {
    const { manufacturer, model, virtual } = sys.value;
    if (manufacturer || model) info.system = nonEmpty({ manufacturer, model, virtual });
    else info.unavailable.system = 'systeminformation found no system maker or model';
  } else fail('system', sys.reason);

  return info;
}
