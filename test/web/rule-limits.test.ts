// A meter's colour from its line (web/rule-limits.ts): the warning band from 80% of the threshold,
// the alert at and past it, and a tooltip that says the line or why there is none.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { levelOf, limitOf, limitText } from '../../web/rule-limits.ts';

test('warning from 80% of the line; alert at and past it; no value, no colour', () => {
  const cpu = limitOf({ rule: 'cpu_busy', threshold: 75 });
  assert.equal(cpu, { rule: 'cpu_busy', threshold: 75, warnFrom: 60 });
  assert.is(levelOf(59.9, cpu), 'ok');
  assert.is(levelOf(60, cpu), 'warn');
  assert.is(levelOf(75, cpu), 'alert');
  assert.is(levelOf(null, cpu), 'none');
  assert.is(limitOf({ rule: 'disk_full', threshold: 99.5 })?.warnFrom, 79.6, 'one decimal');
  assert.is(limitText(cpu, { cpu: { rule: 'cpu_busy', threshold: 75 }, memory: null, disk: {} }, 'cpu'), 'cpu_busy fires at 75%; warning from 60%');
});

test('no line: no colour, and the tooltip says why', () => {
  const none = { cpu: null, memory: null, disk: {} };
  assert.is(levelOf(99, limitOf(none.memory)), 'none');
  assert.is(limitText(null, none, 'memory'), 'no memory rule for this host');
  assert.match(limitText(null, null, 'cpu'), /the agent's own --cpu-threshold applies/);
  assert.is(limitText(null, null, 'disk'), 'the manager sends no rules');
  assert.is(limitText(null, undefined, 'cpu'), '', 'not loaded yet');
});

test.run();
