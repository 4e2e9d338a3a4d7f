// Samples an agent lost, as the dashboard tells them: the notice on the host's page (live, from the
// event stream) and the marker on its fleet row, in a real browser against an in-process manager;
// an agent without loss shows neither. Screenshots of the notice, light and dark, wide and narrow.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { Agent } from '../../common/agent/agent.ts';
import type { Serving } from '../../common/serve/serve.ts';
import { cleanTempDirs, waitFor } from '../harness.helper.ts';
import { browserIt, browserMissing, launch, newContext, screenshot, signedInPage, signIn } from './browser.helper.ts';
import { drivenDeps, serveTest, testAgent } from './inproc.helper.ts';

const missing = browserMissing();
const PW = 'correct horse battery';

let s: Serving & { dataDir: string };
let base: string;
let browser: Browser;
let page: Page;
const agents: Agent[] = [];
let setupError: unknown;
const pageErrors: string[] = [];

function idOf(name: string): string | undefined {
  return [...s.manager.state.all()].find((r) => r.name === name && r.online)?.id;
}

test.before(async () => {
  if (missing) return;
  try {
    s = await serveTest();
    base = `http://127.0.0.1:${s.apiPort}/`;
    await s.dashboard.users.add('admin', 'admin', PW);
    for (const name of ['lossy', 'steady']) agents.push(await testAgent(s, drivenDeps(), { name }));
    await waitFor(() => idOf('lossy') && idOf('steady'), 15_000, 'both agents online');
    browser = await launch();
    page = await signedInPage(browser, base, 'admin', PW, pageErrors);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await browser?.close();
  for (const a of agents) await a.stop();
  await s?.close();
  cleanTempDirs();
});

const it = browserIt('web-samples-lost.test', () => setupError, 40_000);

const notice = () => page.getByRole('status').filter({ hasText: 'samples lost' });
const row = (name: string) => page.locator('table.fleet tbody tr', { has: page.getByRole('link', { name, exact: true }) });

it('a host without loss shows no notice, and its fleet row no marker', async () => {
  await page.goto(`${base}#/host/${idOf('lossy')}`);
  await page.getByRole('heading', { name: /lossy/ }).waitFor();
  await page.locator('figure.chart canvas').first().waitFor({ timeout: 30_000 });
  assert.is(await notice().count(), 0);
  assert.is(await page.getByText(/samples? lost/).count(), 0);
});

it('samples lost: the host page tells how many, that they are not in its history, and why, as they happen', async () => {
  // The page is open: the notice comes by the event stream, with no reload.
  s.manager.state.samplesLost(idOf('lossy')!, 1234, 'spool-full');
  await notice().waitFor();
  const text = (await notice().textContent()) ?? '';
  assert.match(text, /^1,234 samples lost: they are not in this host's history\. Latest: the agent's spool was full \(the manager was away longer than it can keep\), \d\d:\d\d:\d\d\.$/);
  // A second loss adds to the count and names the latest reason.
  s.manager.state.samplesLost(idOf('lossy')!, 6, 'unreadable');
  await page.getByRole('status').getByText('1,240 samples lost').waitFor();
  assert.match((await notice().textContent()) ?? '', /Latest: a line of the agent's spool could not be read back, /);
  assert.is(await page.getByRole('alert').count(), 0, 'a notice, not an alert');
});

it('the fleet marks the row of the host with lost samples, and only that row', async () => {
  await page.goto(`${base}#/`);
  await row('lossy').waitFor();
  const marker = row('lossy').getByText('samples lost', { exact: true });
  await marker.waitFor();
  assert.is(await marker.getAttribute('title'), "1,240 samples lost: the host's page says why");
  await row('steady').waitFor();
  assert.is(await row('steady').getByText(/samples lost/).count(), 0);
  assert.is(await row('steady').locator('td').nth(1).textContent(), 'online');
});

it('a host that never lost samples shows no notice', async () => {
  await page.getByRole('link', { name: 'steady', exact: true }).click();
  await page.getByRole('heading', { name: /steady/ }).waitFor();
  await page.locator('figure.chart canvas').first().waitFor({ timeout: 30_000 });
  assert.is(await notice().count(), 0);
  assert.is(await page.getByText(/samples? lost/).count(), 0);
});

it('screenshots of the notice and the marker, light and dark, wide and narrow', async () => {
  for (const [name, hash] of [['host-samples-lost', `#/host/${idOf('lossy')}`], ['fleet-samples-lost', '#/']] as const) {
    for (const dark of [false, true]) {
      for (const width of [1440, 390]) {
        const ctx = await newContext(browser, { dark, width, height: width > 400 ? 900 : 844 });
        try {
          const p = await ctx.newPage();
          await signIn(p, base, 'admin', PW);
          await p.goto(`${base}${hash}`);
          if (name === 'host-samples-lost') {
            await p.getByRole('status').getByText('1,240 samples lost').waitFor();
            await p.locator('figure.chart canvas').first().waitFor({ timeout: 30_000 });
          } else await p.locator('table.fleet [data-lost]').waitFor();
          await screenshot(p, `${name}-${dark ? 'dark' : 'light'}-${width}`);
        } finally {
          await ctx.close();
        }
      }
    }
  }
}, 120_000);

it('the page threw no script error and logged none', async () => {
  assert.equal(pageErrors, []);
});

test.run();
