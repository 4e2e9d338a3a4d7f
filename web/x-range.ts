// The time axis of a chart: the data's own span, except a lone point (an agent's first report or
// first container record). uPlot gives a lone time point a "day" counted in its own units, which
// with seconds is a thousand days: the axis then reads 2027 to 2029. A minute each side instead.

const LONE_POINT_PAD_S = 60;

/** `xs`: the chart's times (seconds), to tell a lone point from a zoom the user made. */
export function xRange(min: number | null, max: number | null, xs: ArrayLike<number | null | undefined>): [number | null, number | null] {
  const lone = xs.length === 1 ? xs[0] : min !== null && min === max ? min : undefined;
  if (typeof lone !== 'number') return [min, max];
  return [lone - LONE_POINT_PAD_S, lone + LONE_POINT_PAD_S];
}
