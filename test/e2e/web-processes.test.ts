// The history of who on the host page, in a real browser against an in-process manager and an
// agent whose processes the test sets: a click on the CPU chart opens that minute's processes
// below the charts (a heading naming the minute, by CPU and by memory, command lines for admins
// only, a name with HTML shown as text), and the close button closes it. Screenshots light and
// dark, 1440 and 390 wide.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { Agent } from '../../common/agent/agent.ts';
import type { Serving } from '../../common/serve/serve.ts';
import type { ProcessRow } from '../../common/collect/types.ts';
import { cleanTempDirs, waitFor } from '../harness.helper.ts';
import { browserIt, browserMissing, launch, newContext, screenshot, signedInPage, signIn } from './browser.helper.ts';
import { drivenDeps, serveTest, testAgent } from './inproc.helper.ts';

const missing = browserMissing();
const PW = 'correct horse battery';
const VIEWER_PW = 'viewer password 1';
const XSS_NAME = '<img src=x onerror="window.__xss=1">';

let s: Serving & { dataDir: string };
let base: string;
let browser: Browser;
let page: Page;
let agent: Agent;
let setupError: unknown;
const pageErrors: string[] = [];

const proc = (pid: number, name: string, cpu: number, mem: number, command: string): ProcessRow => ({
  pid, name, user: 'www-data', command, cpuPercent: cpu, memBytes: mem, ioBytesPerSec: null, state: 'R', startedAt: null,
});

test.before(async () => {
  if (missing) return;
  try {
    s = await serveTest();
    base = `http://127.0.0.1:${s.apiPort}/`;
    await s.dashboard.users.add('admin', 'admin', PW);
    await s.dashboard.users.add('watcher', 'viewer', VIEWER_PW);
    const d = drivenDeps();
    d.cpu = 85;
    d.processes = [
      proc(4242, 'burner', 97.5, 512e6, '/usr/local/bin/burner --threads 8 --target https://example.test/a/very/long/path/that/goes/on/and/on/to/show/how/a/long/command/line/wraps'),
      proc(1200, 'postgres', 12.25, 2.1e9, 'postgres: 16/main: checkpointer'),
      proc(77, XSS_NAME, 3, 40e6, XSS_NAME),
      proc(1, 'systemd', 0.1, 12e6, '/sbin/init'),
    ];
    agent = await testAgent(s, d, { name: 'busy', processesEveryMs: 1000 });
    await waitFor(() => s.manager.processHistory.range(agent.id, 0, Infinity).records.length >= 2, 20_000, 'process records');
    browser = await launch();
    page = await signedInPage(browser, base, 'admin', PW, pageErrors);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await browser?.close();
  await agent?.stop();
  await s?.close();
  cleanTempDirs();
});

const it = browserIt('web-processes.test', () => setupError, 60_000);

async function openAndClick(p: Page, chart = 'CPU'): Promise<void> {
  await p.goto(`${base}#/host/${agent.id}`);
  await p.getByRole('heading', { name: /busy/ }).waitFor();
  const over = p.locator(`figure.chart[data-chart="${chart}"] .u-over`);
  await over.waitFor({ timeout: 30_000 });
  await waitFor(async () => Number(await p.locator(`figure.chart[data-chart="${chart}"]`).getAttribute('data-points')) >= 2, 20_000, 'points drawn');
  const box = (await over.boundingBox())!;
  await over.click({ position: { x: box.width * 0.9, y: box.height / 2 } }); // scrolled into view first
  try {
    await p.getByRole('heading', { name: /^Processes at / }).waitFor({ timeout: 15_000 });
  } catch (err) {
    await screenshot(p, 'debug-processes');
    throw new Error(`${(err as Error).message}\npanel: ${await p.locator('[data-panel="processes"]').textContent()}`);
  }
}

const panel = () => page.locator('[data-panel="processes"]');

it('a click on the CPU chart opens that minute\'s processes below the charts; close closes it', async () => {
  await openAndClick(page);
  const heading = page.getByRole('heading', { name: /^Processes at \d\d:\d\d:\d\d$/ });
  assert.is(await heading.count(), 1);
  assert.ok(await page.evaluate('document.activeElement?.id === "procs-at-title"'), 'the heading has the focus, so a screen reader reads it');
  const byCpu = page.getByRole('table', { name: 'By CPU' });
  const byMem = page.getByRole('table', { name: 'By memory' });
  assert.equal(await byCpu.locator('tbody tr th .name').allTextContents(), ['burner', 'postgres', XSS_NAME, 'systemd']);
  assert.equal((await byMem.locator('tbody tr th .name').allTextContents()).slice(0, 2), ['postgres', 'burner']);
  const first = byCpu.locator('tbody tr').first();
  assert.equal(await first.locator('td').allTextContents(), ['98%', '512 MB', '4242', 'www-data']);
  assert.match(await first.locator('th .cmd').textContent() ?? '', /--threads 8/, 'command lines for an admin');
  assert.is(await page.evaluate('window.__xss'), undefined, 'a name with HTML is text');
  // the charts come first, the panel after them
  assert.ok(await page.evaluate('!!(document.querySelector(".charts").compareDocumentPosition(document.querySelector("[data-panel=processes]")) & Node.DOCUMENT_POSITION_FOLLOWING)'));
  await screenshot(page, 'host-processes-light-1440');
  await page.getByRole('button', { name: 'Close process table' }).click();
  assert.is(await panel().isHidden(), true);
  assert.is(await page.getByRole('table', { name: 'By CPU' }).count(), 0);
});

it('the memory chart opens it too', async () => {
  await openAndClick(page, 'Memory');
  assert.is(await page.getByRole('table', { name: 'By memory' }).count(), 1);
});

it('without a pointer: a time in "Processes at" and the button open the same table', async () => {
  await page.goto(`${base}#/host/${agent.id}`);
  await page.getByRole('heading', { name: /busy/ }).waitFor();
  const now = new Date();
  await page.getByLabel('Processes at', { exact: true }).fill(`${String(now.getHours()).padStart(2, '0')}:${String(now.getMinutes()).padStart(2, '0')}`);
  await page.getByRole('button', { name: 'Show that minute' }).click();
  await page.getByRole('heading', { name: /^Processes at / }).waitFor({ timeout: 15_000 });
  assert.is(await page.getByRole('table', { name: 'By CPU' }).locator('tbody tr th .name').first().textContent(), 'burner');
});

it('a viewer sees the processes without command lines', async () => {
  const ctx = await newContext(browser);
  try {
    const p = await ctx.newPage();
    await signIn(p, base, 'watcher', VIEWER_PW);
    await openAndClick(p);
    const t = p.getByRole('table', { name: 'By CPU' });
    assert.equal(await t.locator('thead th').allTextContents(), ['Name', 'CPU', 'Memory', 'PID', 'User']);
    assert.is(await t.locator('.cmd').count(), 0);
    assert.is(await p.getByText('--threads 8').count(), 0);
    assert.is(await p.getByText('Command lines are shown to admins only.', { exact: false }).count(), 1);
  } finally {
    await ctx.close();
  }
});

it('screenshots of the open table, light and dark, wide and narrow', async () => {
  for (const dark of [false, true]) {
    for (const width of [1440, 390]) {
      const ctx = await newContext(browser, { dark, width, height: width > 400 ? 900 : 844 });
      try {
        const p = await ctx.newPage();
        await signIn(p, base, 'admin', PW);
        await openAndClick(p);
        await p.getByRole('heading', { name: /^Processes at / }).scrollIntoViewIfNeeded();
        await screenshot(p, `host-processes-${dark ? 'dark' : 'light'}-${width}`);
      } finally {
        await ctx.close();
      }
    }
  }
  assert.equal(pageErrors, []);
}, 120_000);

test.run();
