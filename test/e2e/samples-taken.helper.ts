// "No hole in the history", checked by what the agent took rather than by the time between points:
// on a loaded machine the agent's timer runs late and a restart takes long, so gaps between samples
// say nothing about whether one was lost.
import * as assert from 'uvu/assert';
import { drivenDeps } from './inproc.helper.ts';

/** Driven measurements (drivenDeps) that record the time of every sample taken into `taken`. */
export function recordingDeps(taken: number[]): ReturnType<typeof drivenDeps> {
  const d = drivenDeps();
  const sample = d.sample;
  d.sample = async () => {
    const s = await sample();
    taken.push(s.at);
    return s;
  };
  return d;
}

/**
 * Every sample taken (times in `taken`) is in the history `h` (a raw-tier answer). Compared by the
 * raw tier's slot, which holds one sample: two taken within one step (a late then an early timer)
 * share it and the later wins.
 */
export function assertEveryTakenSample(h: { step: number; tier: string; points: { at: string }[] }, taken: number[]): void {
  assert.is(h.tier, 'raw', 'compared with the raw tier, one point a slot');
  const slots = new Set(h.points.map((p) => Math.floor(Date.parse(p.at) / h.step)));
  const missing = taken.filter((t) => !slots.has(Math.floor(t / h.step)));
  assert.equal(missing.map((t) => new Date(t).toISOString()), [], `missing of ${taken.length} samples taken`);
}
