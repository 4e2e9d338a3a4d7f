// A rollout a manager restart cut short, as the dashboard shows it after the restart: the panel says
// interrupted, in which batch, and the command that goes on (`manager upgrade resume`), as the CLI's
// `upgrade status` does. The manager starts on a rollout file left "running" by one that died.
// Screenshots light and dark, wide and 390 px.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { RolloutStatus } from '../../common/api/types.ts';
import { cleanTempDirs, tempDir } from '../harness.helper.ts';
import { browserIt, browserMissing, launch, screenshotsLightDark, signedInPage } from './browser.helper.ts';
import { addUser, dashboardUrl, killAll, startManager, type ManagerProc } from './procs.helper.ts';

const PW = 'correct horse battery';
let mgr: ManagerProc;
let base: string;
let browser: Browser;
let page: Page;
let setupError: unknown;
const pageErrors: string[] = [];

test.before(async () => {
  if (browserMissing()) return;
  try {
    const data = tempDir('hw-rollout-mgr-');
    const t = Date.now() - 60_000;
    const saved: RolloutStatus = {
      by: 'alice', file: '/srv/agent-linux-x64', version: '0.2.0', platform: 'linux', arch: 'x64', sha256: 'b'.repeat(64), size: 1,
      batchSize: 2, maxFailures: 1, state: 'running', startedAt: t, batch: 2, batches: 3,
      hosts: [
        { agent: 'web-1', agentId: 'a1', step: 'done', from: '0.1.0', at: t },
        { agent: 'web-2', agentId: 'a2', step: 'done', from: '0.1.0', at: t },
        { agent: 'web-3', agentId: 'a3', step: 'sending', from: '0.1.0', at: t },
        { agent: 'web-4', agentId: 'a4', step: 'waiting', from: '0.1.0', at: t },
        { agent: 'web-5', agentId: 'a5', step: 'waiting', from: '0.1.0', at: t },
      ],
    };
    writeFileSync(join(data, 'upgrade-rollout.json'), JSON.stringify(saved));
    mgr = await startManager([], data);
    base = await dashboardUrl(mgr);
    await addUser(mgr.dataDir, 'admin', 'admin', PW);
    browser = await launch();
    page = await signedInPage(browser, base, 'admin', PW, pageErrors);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await browser?.close();
  await killAll();
  cleanTempDirs();
});

const it = browserIt('web-rollout-interrupted', () => setupError);

it('the panel says where the restart stopped the rollout, and `manager upgrade resume`', async () => {
  const panel = page.locator('section.rollout');
  await panel.getByRole('heading', { name: /^Upgrade to 0\.2\.0/ }).waitFor();
  assert.is(await panel.locator('[data-rollout]').textContent(), 'interrupted');
  const line = panel.locator('.rollout-interrupted');
  assert.match(await line.textContent() ?? '', /^Interrupted in batch 2 of 3 by a manager restart (now|\d+ s ago): manager upgrade resume goes on with the hosts not yet done\.$/);
  assert.is(await line.locator('code').textContent(), 'manager upgrade resume');
  assert.match(await panel.locator('.rollout-counts').textContent() ?? '', /2 done.*0 failed.*1 updating.*2 waiting/);
  assert.equal(pageErrors, []);
});

it('screenshots: light and dark, 1440 and 390 px', async () => {
  await screenshotsLightDark(browser, 'rollout-interrupted', base, 'admin', PW, async (p) => {
    await p.locator('section.rollout .rollout-interrupted').waitFor();
  });
}, 60_000);

test.run();
