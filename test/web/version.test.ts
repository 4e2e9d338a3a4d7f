// The dashboard's version comparison (web/version.ts): numbers part by part, a pre-release before
// its release, build metadata ignored, and what it cannot read is unknown, never "older".

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareVersions, versionFact, versionMark } from '../../web/version.ts';

test('numbers compare part by part, not as text', () => {
  assert.is(compareVersions('0.9.0', '0.10.0'), -1);
  assert.is(compareVersions('1.2', '1.2.0'), 0);
  assert.is(compareVersions('2.0.0', '1.99.99'), 1);
  assert.is(compareVersions('v0.2.0', '0.2.0'), 0);
});

test('a pre-release is before its release; build metadata does not count', () => {
  assert.is(compareVersions('0.2.0-rc.1', '0.2.0'), -1);
  assert.is(compareVersions('0.2.0-rc.2', '0.2.0-rc.10'), -1);
  assert.is(compareVersions('0.2.0-alpha', '0.2.0-alpha.1'), -1);
  assert.is(compareVersions('0.2.0-1', '0.2.0-beta'), -1);
  assert.is(compareVersions('0.2.0+build.7', '0.2.0'), 0);
});

test('an agent older, the same, newer, or unknown against the manager', () => {
  assert.is(versionMark('0.0.9', '0.1.0'), 'older');
  assert.is(versionMark('0.1.0', '0.1.0'), 'same');
  assert.is(versionMark('0.2.0', '0.1.0'), 'newer');
  for (const v of ['', 'unknown', 'dev', null, undefined]) assert.is(versionMark(v, '0.1.0'), 'unknown', String(v));
  assert.is(versionMark('0.1.0', null), 'unknown', 'the manager\'s own not known yet');
});

test('the host page says how the version stands', () => {
  assert.is(versionFact('0.0.9', '0.1.0'), '0.0.9, older than the manager (0.1.0)');
  assert.is(versionFact('0.1.0', '0.1.0'), '0.1.0');
  assert.is(versionFact('', '0.1.0'), 'unknown');
  assert.is(versionFact('dev', '0.1.0'), 'dev (not comparable with the manager\'s 0.1.0)');
});

test.run();
