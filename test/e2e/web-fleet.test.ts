// The fleet page at a glance, in a real browser against a real manager and real agents: meters in
// the colours of each host's own rules (one host's memory and CPU rules set low, so it alerts), the
// alert and the process behind it on its row, agents older than the manager marked (a bundle built
// with HOSTWATCH_VERSION=0.0.9, as the upgrade test builds its B), and a real rollout's panel,
// live, while the page stays open. Screenshots light and dark, wide and 390 px.

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { cleanTempDirs, tempDir, waitFor } from '../harness.helper.ts';
import { browserIt, browserMissing, launch, newContext, screenshot, screenshotsLightDark, signedInPage, signIn } from './browser.helper.ts';
import { addUser, AGENT_JS, apiJson, BUILD, cli, dashboardUrl, killAll, run, startAgent, startManager, waitOnline, type ManagerProc, type Proc } from './procs.helper.ts';

const missing = browserMissing();
const PW = 'correct horse battery';
const work = join(BUILD, `fleet-e2e-${randomBytes(4).toString('hex')}`); // inside .build: the bundles find node_modules
const OLD = join(work, 'old.mjs');
const NEW = join(work, 'new', 'agent.mjs');

let mgr: ManagerProc;
let base: string;
let browser: Browser;
let page: Page;
let setupError: unknown;
const pageErrors: string[] = [];
let rollout: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
/** old-a: its watcher starts the new version as another process (its pid in the output), killed at the end. */
let upgraded: Proc | undefined;

/** An agent run from its own copy of the 0.0.9 bundle (a rollout replaces that file). */
function oldAgent(name: string, extra: string[] = []): Proc {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'agent.mjs');
  copyFileSync(OLD, exe);
  return run(exe, ['--manager', `127.0.0.1:${mgr.tcpPort}`, '--udp-port', String(mgr.udpPort), '--interval', '1', '--state-dir', tempDir('hw-fleet-agent-'),
    '--enroll-token-file', join(mgr.dataDir, 'enroll-token'), '--name', name, ...extra]);
}

test.before(async () => {
  if (missing) return;
  try {
    mkdirSync(join(work, 'new'), { recursive: true });
    await build({
      entryPoints: [resolve(BUILD, '..', 'agent.ts')], outfile: OLD, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning',
      define: { 'process.env.HOSTWATCH_COMMIT': '""', 'process.env.HOSTWATCH_VERSION': '"0.0.9"' },
    });
    copyFileSync(AGENT_JS, NEW);
    const data = tempDir('hw-fleet-mgr-');
    const config = join(data, 'manager.yaml');
    // Everyone's lines high, so they stay quiet; `hot`'s CPU and memory lines low, so it alerts.
    writeFileSync(config, [
      'rules:',
      '  cpu_high: { metric: cpu, above: 99, for: 1h }',
      '  memory_high: { metric: memory, above: 99, for: 1s }',
      '  disk_full: { metric: disk, above: 99.5, for: 1h, per: mount }',
      'agents:',
      '  "hot": { cpu_high: { above: 0.1, for: 1s }, memory_high: { above: 1 } }',
      '',
    ].join('\n'));
    for (const args of [['upgrade-key', 'create'], ['upgrade-key', 'sign', NEW]]) {
      const r = await cli(data, args);
      assert.is(r.code, 0, r.stderr);
    }
    mgr = await startManager(['--config', config], data);
    base = await dashboardUrl(mgr);
    await addUser(mgr.dataDir, 'admin', 'admin', PW);
    upgraded = oldAgent('old-a', ['--allow-upgrade']);
    const procs = [startAgent(mgr, ['--name', 'hot']), startAgent(mgr, ['--name', 'cool']), upgraded, oldAgent('old-b')];
    for (const [i, n] of ['hot', 'cool', 'old-a', 'old-b'].entries()) await waitOnline(mgr.dataDir, n, 30_000, procs[i]!, mgr);
    browser = await launch();
    page = await signedInPage(browser, base, 'admin', PW, pageErrors);
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await browser?.close();
  await rollout?.catch(() => {});
  for (const m of upgraded?.output().matchAll(/\(pid (\d+)\)/g) ?? []) {
    try { process.kill(Number(m[1]), 'SIGKILL'); } catch { /* gone */ }
  }
  await killAll();
  rmSync(work, { recursive: true, force: true });
  cleanTempDirs();
});

const it = browserIt('web-fleet.test', () => setupError, 60_000);

const row = (name: string) => page.locator('table.fleet tbody tr', { has: page.getByRole('link', { name, exact: true }) });
/** A column's cell of a row, by the column's heading. */
async function cell(name: string, column: string) {
  const heads = await page.locator('table.fleet thead th').allTextContents();
  const i = heads.findIndex((t) => t === column);
  assert.ok(i >= 0, `column ${column} in ${heads.join(', ')}`);
  return row(name).locator('td').nth(i);
}

it('meters in the colours of each host\'s rules: the low lines in alert colour, the high ones not; the value stays as text', async () => {
  await page.goto(`${base}#/`);
  const mem = await cell('hot', 'Memory');
  await waitFor(async () => (await mem.getAttribute('data-level')) === 'alert', 20_000, 'hot\'s memory in alert colour');
  assert.match((await mem.textContent()) ?? '', /^\d+(\.\d)?%$/, 'the value as text, nothing else');
  assert.is(await mem.getAttribute('title'), 'memory_high fires at 1%; warning from 0.8%');
  // The bar's colour is the theme's alert colour.
  // (A string: this file is type-checked without the DOM's types.)
  const [fill, bad] = await page.evaluate(`(() => {
    const f = document.querySelector('table.fleet tbody tr td[data-level="alert"] .meter-bar');
    const probe = document.createElement('span');
    probe.style.color = 'var(--bad)';
    document.body.append(probe);
    const c = getComputedStyle(probe).color;
    probe.remove();
    return [getComputedStyle(f).backgroundImage, c];
  })()`) as [string, string];
  assert.ok(fill.startsWith(`linear-gradient(to right, ${bad} `), `${fill} in ${bad}`);
  const cpu = await cell('hot', 'CPU');
  await waitFor(async () => (await cpu.getAttribute('data-level')) === 'alert', 20_000, 'hot\'s CPU in alert colour');
  assert.is(await cpu.getAttribute('title'), 'cpu_high fires at 0.1%; warning from 0.1%');
  const coolMem = await cell('cool', 'Memory');
  assert.ok(['ok', 'warn'].includes((await coolMem.getAttribute('data-level'))!), 'cool\'s memory under its 99% line');
  assert.is(await coolMem.getAttribute('title'), 'memory_high fires at 99%; warning from 79.2%');
  const disk = await cell('cool', 'Disk');
  assert.match((await disk.getAttribute('title')) ?? '', /^fullest mount: \S+ \(\d+(\.\d)?%\); disk_full fires at 99.5%; warning from 79.6%$/);
});

it('an alerting row names what fires and the process behind it, as the alert carries it', async () => {
  const alerts = await cell('hot', 'Alerts');
  const active = await waitFor(async () => {
    const list = (await apiJson<any[]>(mgr.dataDir, '/api/alerts?active=1')).filter((a) => a.agent === 'hot');
    return list.some((a) => a.type === 'MEMORY_HIGH' && a.top?.length) && list.some((a) => a.type === 'CPU_HIGH' && a.top?.length) ? list : null;
  }, 30_000, 'hot\'s CPU and memory alerts, with their processes');
  const mem = active.find((a: any) => a.type === 'MEMORY_HIGH').top[0];
  const cpu = active.find((a: any) => a.type === 'CPU_HIGH').top[0];
  await waitFor(async () => {
    const t = (await alerts.textContent()) ?? '';
    return t.includes(`MEMORY_HIGH: ${mem.name} (pid ${mem.pid}) `) && t.includes(`CPU_HIGH: ${cpu.name} (pid ${cpu.pid}) `);
  }, 10_000, 'the alerts named on the row');
  assert.is(await alerts.getAttribute('data-alerting'), 'yes');
  const title = (await alerts.getAttribute('title')) ?? '';
  assert.is(title.split('\n').length, 2, 'one line an alert');
  assert.match(title, /MEMORY_HIGH: .+ \(pid \d+\) [\d.]+ [kMG]?B/);
  assert.is((await (await cell('cool', 'Alerts')).textContent()), '-');
});

it('on a 390 px screen an alert\'s cause wraps under its badge, so the host column is not pushed out of view', async () => {
  const ctx = await newContext(browser, { width: 390, height: 844 });
  try {
    const p = await ctx.newPage();
    await signIn(p, base, 'admin', PW);
    await p.goto(`${base}#/alerts`);
    const row = p.locator('table.alerts tbody tr[data-type="CPU_HIGH"]').first();
    await row.waitFor();
    const what = (await row.locator('td.alert-what').boundingBox())!;
    const host = (await row.locator('td.host a').boundingBox())!;
    assert.ok(what.width < 300, `the cause's cell is ${what.width} px wide`);
    assert.ok(what.height > 40, `the cause wraps: ${what.height} px tall`);
    assert.ok(host.x < 390, `the host link starts in view: x ${host.x}`);
    await screenshot(p, 'alerts-cause-light-390');
  } finally {
    await ctx.close();
  }
});

it('agents older than the manager are marked, on the fleet and on the host\'s page; the others are not', async () => {
  const manager = (await apiJson<{ version: string }>(mgr.dataDir, '/api/version')).version;
  assert.is(manager, '0.1.0');
  for (const name of ['old-a', 'old-b']) {
    const v = await cell(name, 'Version');
    await v.getByText('older', { exact: true }).waitFor();
    assert.is(await v.textContent(), '0.0.9older');
    assert.is(await v.getAttribute('title'), 'older than the manager (0.1.0): upgrade it with `manager upgrade`');
  }
  // Counted on top as well (on a phone the Version column is scrolled out of sight).
  const older = page.locator('.counts [data-kind="older"]');
  await waitFor(async () => (await older.count()) === 1 && (await older.textContent()) === '2 older', 10_000, 'two older agents counted');
  assert.is(await older.getAttribute('title'), 'older than the manager (0.1.0): upgrade them with `manager upgrade`');
  for (const name of ['hot', 'cool']) {
    const v = await cell(name, 'Version');
    assert.is(await v.textContent(), '0.1.0');
    assert.is(await v.getAttribute('data-version'), 'same');
  }
  // The host's page says it too.
  await page.getByRole('link', { name: 'old-b', exact: true }).click();
  await page.locator('dd', { hasText: '0.0.9, older than the manager (0.1.0)' }).waitFor();
  // Its mounts in the colours of its disk rule, as on the fleet.
  const meters = page.locator('table[data-table="mounts"] .meter');
  await meters.first().waitFor();
  const titles = await meters.evaluateAll((els) => els.map((e) => e.getAttribute('title')));
  assert.ok(titles.includes('disk_full fires at 99.5%; warning from 79.6%'), titles.join(' | '));
  assert.ok(titles.every((t) => t === 'disk_full fires at 99.5%; warning from 79.6%' || t === 'no disk rule for this host'), titles.join(' | '));
  await page.goto(`${base}#/`);
  await row('old-b').waitFor();
});

it('the sparkline shows each host from its first minute', async () => {
  const agents = await apiJson<any[]>(mgr.dataDir, '/api/agents');
  // The minute under way has a point once a report of it is in: just after a minute turns it may not yet.
  const sparks = await waitFor(async () => {
    const s = await apiJson<{ agents: Record<string, (number | null)[]> }>(mgr.dataDir, '/api/sparklines?minutes=60&points=60');
    return agents.every((a) => typeof s.agents[a.id]?.[59] === 'number') ? s : null;
  }, 15_000, 'a point for the minute under way for every host');
  for (const a of agents) assert.type(sparks.agents[a.id]?.[59], 'number', `${a.name}: the minute under way`);
  for (const name of ['hot', 'cool', 'old-a', 'old-b']) {
    assert.match((await row(name).locator('canvas.spark').getAttribute('aria-label')) ?? '', /^CPU over the last hour, \d+ to \d+%$/, name);
  }
});

it('a sparkline is drawn once its row comes into view, labelled before', async () => {
  const p = await signedInPage(browser, base, 'admin', PW, pageErrors);
  try {
    // The page pushed far below the window, then the fleet drawn again under it: its rows out of view.
    await p.evaluate(() => { (globalThis as any).document.body.style.paddingTop = '5000px'; });
    await p.goto(`${base}#/alerts`);
    await p.goto(`${base}#/`);
    const spark = p.locator('table.fleet tbody tr', { has: p.getByRole('link', { name: 'hot', exact: true }) }).locator('canvas.spark');
    /** the canvas's pixels with any ink */
    const ink = () => spark.evaluate((c: any) => {
      const d: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    });
    await waitFor(async () => /^CPU over the last hour, \d+ to \d+%$/.test((await spark.getAttribute('aria-label')) ?? ''), 10_000, 'the label, out of view');
    await p.evaluate(() => new Promise((r) => {
      const raf = (globalThis as any).requestAnimationFrame;
      raf(() => raf(r));
    }));
    assert.is(await ink(), 0, 'out of view: not drawn yet');
    await spark.scrollIntoViewIfNeeded();
    await waitFor(async () => (await ink()) > 0, 10_000, 'drawn once in view');
  } finally {
    await p.context().close();
  }
});

it('a rollout shows live: the panel appears, counts done and failed, names the failure; the upgraded host is no longer marked', async () => {
  assert.is(await page.locator('section.rollout').isVisible(), false, 'no rollout yet');
  assert.is((await apiJson(mgr.dataDir, '/api/upgrade')), null, 'none: null, as documented');
  assert.is((await cli(mgr.dataDir, ['upgrade', 'status'])).stdout, 'no rollout yet\n');
  rollout = cli(mgr.dataDir, ['upgrade', 'old-*', '--to', NEW, '--batch', '2', '--json'], 100_000);
  const panel = page.locator('section.rollout');
  await panel.getByRole('heading', { name: /^Upgrade to 0\.1\.0/ }).waitFor({ timeout: 20_000 });
  await waitFor(async () => (await panel.locator('[data-rollout]').textContent()) === 'done', 90_000, 'the rollout done, on the page');
  const r = await rollout;
  assert.is(r.code, 1, 'one host failed');
  assert.is(await panel.locator('[data-kind="done"] b').textContent(), '1');
  assert.is(await panel.locator('[data-kind="failed"] b').textContent(), '1');
  assert.is(await panel.locator('[data-kind="waiting"] b').textContent(), '0');
  assert.match((await panel.textContent()) ?? '', /2 hosts in batches of 2 · started by \S+ \d+ s ago, ended \d+ s ago/);
  const failed = panel.locator('.rollout-failed li');
  assert.is(await failed.count(), 1);
  assert.match((await failed.textContent()) ?? '', /^old-b \(from 0\.0\.9\): UPGRADE_NOT_ALLOWED /);
  await waitFor(async () => (await (await cell('old-a', 'Version')).textContent()) === '0.1.0', 30_000, 'old-a back on 0.1.0, unmarked');
  assert.is(await (await cell('old-b', 'Version')).textContent(), '0.0.9older');
  await waitFor(async () => (await page.locator('.counts [data-kind="older"]').textContent()) === '1 older', 10_000, 'one older agent counted');
}, 150_000);

it('screenshots of the fleet and a host\'s page, light and dark, wide and 390 px', async () => {
  await screenshotsLightDark(browser, 'fleet-glance', base, 'admin', PW, async (p) => {
    await p.locator('section.rollout h2').waitFor();
    await p.locator('table.fleet td[data-level="alert"]').first().waitFor();
  });
  const oldB = (await apiJson<any[]>(mgr.dataDir, '/api/agents')).find((x) => x.name === 'old-b').id;
  await screenshotsLightDark(browser, 'host-version', base, 'admin', PW, async (p) => {
    await p.goto(`${base}#/host/${oldB}`);
    await p.locator('dd', { hasText: 'older than the manager' }).waitFor();
    await p.locator('table[data-table="mounts"] .meter').first().waitFor();
  });
}, 120_000);

it('the page threw no script error and logged none', async () => {
  assert.equal(pageErrors, []);
});

test.run();
