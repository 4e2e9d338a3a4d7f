import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { staticInfo, type SiSubset } from '../../common/collect/static-info.ts';
import { timed } from '../harness.helper.ts';

const test = suite('collect/static-info');

function fakeSi(over: { cpu?: object; osInfo?: object; system?: object; hang?: boolean } = {}): SiSubset {
  const answer = <T>(v: T) => (over.hang ? new Promise<T>(() => {}) : Promise.resolve(v));
  return {
    cpu: () => answer({ manufacturer: 'Intel', brand: 'Xeon(R) E-2288G', speed: 3.7, ...over.cpu }),
    osInfo: () => answer({ distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0-18-amd64', codename: 'bookworm', ...over.osInfo }),
    system: () => answer({ manufacturer: 'Dell Inc.', model: 'PowerEdge R250', virtual: false, ...over.system }),
  } as unknown as SiSubset;
}

test('values as si gives them, speed in MHz', timed(2000, async () => {
  const s = await staticInfo(fakeSi());
  assert.is(s.cpuModel, 'Intel Xeon(R) E-2288G');
  assert.is(s.cpuSpeedMHz, 3700);
  assert.equal(s.os, { distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0-18-amd64', codename: 'bookworm' });
  assert.equal(s.system, { manufacturer: 'Dell Inc.', model: 'PowerEdge R250', virtual: false });
  assert.equal(s.unavailable, {});
}));

test("si's empty answers (Wine, no PowerShell) are unavailable, not values", timed(2000, async () => {
  const s = await staticInfo(fakeSi({
    cpu: { manufacturer: '', brand: '', speed: 0 },
    osInfo: { distro: '', release: '', kernel: '', codename: '' },
    system: { manufacturer: '', model: '', virtual: false },
  }));
  assert.is(s.cpuModel, null);
  assert.is(s.cpuSpeedMHz, null);
  assert.is(s.os, null);
  assert.is(s.system, null);
  assert.ok(s.unavailable.os && s.unavailable.system);
  // A partly empty answer keeps only the fields that were found.
  const p = await staticInfo(fakeSi({ system: { manufacturer: '', model: 'Docker Container', virtual: true } }));
  assert.equal(p.system, { model: 'Docker Container', virtual: true });
}));

test('a lookup that hangs times out and is marked for retry', timed(2000, async () => {
  const s = await staticInfo(fakeSi({ hang: true }), 50);
  assert.ok(s.timedOut);
  assert.match(s.unavailable.os!, 'no answer in 50 ms');
}));

test.run();
