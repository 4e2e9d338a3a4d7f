// A chart's time axis: the data's span; a lone point gets a minute each side (not the thousand
// days uPlot gives a lone time point in seconds).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { xRange } from '../../web/x-range.ts';

test('a lone point: a minute each side, whatever span uPlot proposed; several points: the span asked', () => {
  const t = Date.UTC(2026, 11, 6, 14, 54) / 1000;
  assert.equal(xRange(t, t + 86_400_000, [t]), [t - 60, t + 60]);
  assert.equal(xRange(t, t, [t, t]), [t - 60, t + 60]);
  assert.equal(xRange(t - 600, t, [t - 600, t - 300, t]), [t - 600, t]);
  assert.equal(xRange(t - 300, t - 200, [t - 600, t]), [t - 300, t - 200], 'a zoom stays as made');
  assert.equal(xRange(null, null, []), [null, null]);
});

test.run();
