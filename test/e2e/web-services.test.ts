// The host page's failed services, in a real browser against an in-process manager whose agents
// read their services through an injected runner answering with a faithful sample of systemctl
// 252's JSON (systemd is not PID 1 here, see test/actions/services.test.ts), and with the real
// "not booted with systemd" answer; signed in as a viewer. Screenshots light and dark, wide and narrow.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { listServices } from '../../common/actions/services.ts';
import type { Agent } from '../../common/agent/agent.ts';
import type { Serving } from '../../common/serve/serve.ts';
import type { Runner } from '../../common/util/runner.ts';
import { fixture } from '../collect/fake-proc.helper.ts';
import { cleanTempDirs, waitFor } from '../harness.helper.ts';
import { browserIt, browserMissing, launch, newContext, screenshot, signedInPage, signIn } from './browser.helper.ts';
import { drivenDeps, serveTest, testAgent } from './inproc.helper.ts';

const missing = browserMissing();
const PW = 'viewer password 1';

let s: Serving & { dataDir: string };
let base: string;
let browser: Browser;
let page: Page;
const agents: Agent[] = [];
let setupError: unknown;
const pageErrors: string[] = [];

const fromFixture = (name: string, code = 0): Runner => async (_f, args) => ({
  stdout: code ? '' : readFileSync(fixture(args[0] === 'show' ? 'systemctl-show-failed.txt' : name), 'utf8'), stderr: code ? readFileSync(fixture(name), 'utf8') : '', code,
});

function idOf(name: string): string | undefined {
  return [...s.manager.state.all()].find((r) => r.name === name && r.online)?.id;
}

test.before(async () => {
  if (missing) return;
  try {
    s = await serveTest();
    base = `http://127.0.0.1:${s.apiPort}/`;
    await s.dashboard.users.add('watcher', 'viewer', PW);
    const web = fromFixture('systemctl-list-units-services.json');
    const bare = fromFixture('systemctl-not-booted.txt', 1);
    agents.push(await testAgent(s, { ...drivenDeps(), services: (o) => listServices({ ...o, platform: 'linux', runner: web }) }, { name: 'web-db' }));
    agents.push(await testAgent(s, { ...drivenDeps(), services: (o) => listServices({ ...o, platform: 'linux', runner: bare }) }, { name: 'container' }));
    await waitFor(() => idOf('web-db') && idOf('container'), 15_000, 'both agents online');
    browser = await launch();
    page = await signedInPage(browser, base, 'watcher', PW, pageErrors);
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

const it = browserIt('web-services.test', () => setupError, 40_000);

const servicesSection = (p: Page) => p.locator('section', { has: p.getByRole('heading', { name: 'Failed services' }) });

it('a viewer sees the failed units on the host page, each as text', async () => {
  await page.goto(`${base}#/host/${idOf('web-db')}`);
  const table = page.getByRole('table', { name: 'Failed services' });
  await table.waitFor();
  const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td > div, td > span, td:last-child')].map((e) => e.textContent)));
  assert.equal(cells, [
    ['nginx.service', 'A high performance web server and a reverse proxy server', 'exit-code, status 1, since Sun 2026-12-06 08:40:12 UTC', 'failed', 'failed'],
    ['postgresql@15-main.service', 'PostgreSQL Cluster 15-main', 'exit-code, status 1, since Sun 2026-12-06 08:40:15 UTC', 'failed', 'failed'],
  ]);
  assert.ok(await servicesSection(page).getByText('2 failed of 17 services (systemctl).').isVisible());
});

it('a host without systemd says so with its code, not an empty list', async () => {
  await page.goto(`${base}#/host/${idOf('container')}`);
  const said = servicesSection(page).locator('[data-error]');
  await said.waitFor();
  assert.is(await said.getAttribute('data-error'), 'SERVICES_UNAVAILABLE');
  assert.match((await said.textContent()) ?? '', /systemd is not running on this host \(System has not been booted with systemd/);
  assert.is(await servicesSection(page).getByRole('table').count(), 0);
  await screenshot(page, 'host-services-unavailable-light-1440');
});

it('screenshots, light and dark, wide and narrow', async () => {
  for (const dark of [false, true]) {
    for (const width of [1440, 390]) {
      const ctx = await newContext(browser, { dark, width, height: width > 400 ? 900 : 844 });
      try {
        const p = await ctx.newPage();
        await signIn(p, base, 'watcher', PW);
        await p.goto(`${base}#/host/${idOf('web-db')}`);
        await p.getByRole('table', { name: 'Failed services' }).waitFor();
        await p.locator('figure.chart canvas').first().waitFor({ timeout: 30_000 });
        await servicesSection(p).scrollIntoViewIfNeeded();
        await screenshot(p, `host-services-${dark ? 'dark' : 'light'}-${width}`);
      } finally {
        await ctx.close();
      }
    }
  }
}, 120_000);

it('the page threw no script error and logged none', async () => {
  assert.equal(pageErrors, []);
});

test.run();
