// `manager services` as text: UNIT ACTIVE SUB DESCRIPTION, why each failed unit failed, the counts;
// a name from the agent with terminal escapes in it is shown, not obeyed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { servicesText } from '../../common/cli/format.ts';

const test = suite('cli/services-format');

test('the table, the reasons and the counts; escapes made inert', () => {
  const text = servicesText({
    source: 'systemctl', total: 40, failedCount: 1, omitted: 2,
    services: [
      { name: 'evil\x1b]0;owned\x07.service', description: 'Bad\x1b[2J', active: 'failed', sub: 'failed', running: false, failed: true, result: 'exit-code', exitStatus: 203 },
      { name: 'ssh.service', description: 'OpenBSD Secure Shell server', active: 'active', sub: 'running', running: true, failed: false },
    ],
  }, false);
  assert.not.match(text, /\x1b|\x07/);
  assert.equal(text.split('\n'), [
    `${'UNIT'.padEnd(28)}  ACTIVE  SUB      DESCRIPTION`,
    'evil\\x1b]0;owned\\x07.service  failed  failed   Bad\\x1b[2J',
    `${'ssh.service'.padEnd(28)}  active  running  OpenBSD Secure Shell server`,
    'evil\\x1b]0;owned\\x07.service: exit-code, status 203',
    '1 failed of 40 services (systemctl); 2 more not listed',
  ]);
  assert.is(servicesText({ source: 'systemctl', total: 40, failedCount: 0, services: [] }, true), 'no failed services; 0 failed of 40 services (systemctl)');
});

test.run();
