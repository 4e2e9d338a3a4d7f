// The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
// manager and real agents on loopback: sign-in, the fleet against `agents --json`, a host's charts
// and commands, roles, CSRF, HTML in names, live alerts, one-time links; screenshots of every page.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { duration, pct, rate } from '../../web/format.ts';
import { cleanTempDirs, tempDir, timed, waitFor } from '../harness.helper.ts';
import { browserMissing, launch, newContext, screenshot, signIn } from './browser.helper.ts';
import { addUser, apiJson, cli, cliJson, cliWithInput as cliInputAt, dashboardUrl, killAll, startAgent, startManager, waitOnline, type ManagerProc } from './procs.helper.ts';

const missing = browserMissing();
const work = tempDir('hw-web-');
const logFile = join(work, 'app.log');
const marker = join(work, 'restarted');
const payload = join(work, 'payload.bin');
const XSS_NAME = '<img src=x onerror="window.__xss=1">';
const ADMIN_PW = 'correct horse battery';
const VIEWER_PW = 'viewer password 1';

let mgr: ManagerProc;
let base: string;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let setupError: unknown;
/** Script errors and console errors of the page's code on the main page: none expected, checked at the end. */
const pageErrors: string[] = [];

/** `manager <args>` with `input` on its standard input. */
const cliWithInput = (args: string[], input: string) => cliInputAt(mgr.dataDir, args, input);

function events(): any[] {
  return readFileSync(join(mgr.dataDir, 'events.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test.before(async () => {
  if (missing) return;
  try {
    writeFileSync(logFile, Array.from({ length: 200 }, (_, i) => `line ${i + 1} <b>not bold</b>`).join('\n') + '\n');
    writeFileSync(payload, randomBytes(300_000));
    mgr = await startManager();
    base = await dashboardUrl(mgr);
    for (const [name, role, pw] of [['admin', 'admin', ADMIN_PW], ['watcher', 'viewer', VIEWER_PW]] as const) await addUser(mgr.dataDir, name, role, pw);
    const procs = [
      startAgent(mgr, ['--name', 'alpha', '--log-file', logFile, '--allow-restart', '--restart-command', `echo restarted > ${marker}`, '--files-root', work]),
      startAgent(mgr, ['--name', 'beta']),
      startAgent(mgr, ['--name', XSS_NAME]),
    ];
    startAgent(mgr, ['--name', 'newcomer'], tempDir('hw-agent-'), false);
    for (const [i, n] of ['alpha', 'beta', XSS_NAME].entries()) await waitOnline(mgr.dataDir, n, 30_000, procs[i]!, mgr);
    await waitFor(async () => (await apiJson<any[]>(mgr.dataDir, '/api/pending')).length === 1, 20_000, 'a pending agent');
    browser = await launch();
    admin = await newContext(browser);
    page = await admin.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${e.message}\n${e.stack ?? ''}`));
    // Refused requests are logged by the browser itself (the tests make many on purpose): not ours.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && pageErrors.push(`console: ${m.text()}`));
  } catch (err) {
    setupError = err;
  }
});

test.after(async () => {
  await browser?.close();
  await killAll();
  cleanTempDirs();
});

if (missing) {
  test(`browser tests skipped: ${missing}`, () => {
    console.warn(`web.test: SKIPPED, ${missing}`);
  });
}

const it = (name: string, fn: () => Promise<void>, ms = 40_000) => {
  if (!missing) test(name, timed(ms, async () => {
    if (setupError) throw setupError;
    await fn();
  }));
};

it('the manager prints the dashboard address, and the page is served with a CSP and no inline script', async () => {
  assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const res = await fetch(base);
  const html = await res.text();
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.not.match(res.headers.get('content-security-policy') ?? '', /unsafe-inline/);
  assert.not.match(html, /<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>/, 'no inline script');
});

it('a wrong password is refused, the right one signs in', async () => {
  await page.goto(base);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'BAD_CREDENTIALS' }).waitFor();
  assert.is(await page.getByRole('heading', { name: 'Fleet' }).count(), 0);
  await signIn(page, base, 'admin', ADMIN_PW);
  const cookie = (await admin.cookies()).find((c) => c.name === 'hw_session')!;
  assert.ok(cookie.httpOnly, 'HttpOnly');
  assert.is(cookie.sameSite, 'Strict');
});

it('sign-in attempts are rate-limited per user', async () => {
  const codes: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await fetch(`${base}api/web/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: `guess ${i}` }) });
    codes.push(((await r.json()) as any).error.code);
  }
  assert.equal(codes.slice(0, 5), Array(5).fill('BAD_CREDENTIALS'));
  assert.is(codes[6], 'RATE_LIMITED');
});

it('the fleet shows each agent with the values of agents --json', async () => {
  await page.goto(`${base}#/`);
  const json = await cliJson<any[]>(mgr.dataDir, ['agents']);
  assert.equal(json.map((a) => a.name).sort(), ['alpha', 'beta', XSS_NAME].sort());
  const cols = ['Name', 'State', 'CPU', 'Memory', 'Disk', 'Net in', 'Net out', 'Uptime', 'Processes'];
  // Reports arrive every second: wait for a moment when the page and the API show the same one.
  await waitFor(async () => {
    const list = await apiJson<any[]>(mgr.dataDir, '/api/agents');
    const rows = await page.$$eval('table.fleet tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    if (rows.length !== list.length) return false;
    return list.every((a) => {
      const m = a.metrics;
      // Disk: the fullest mount of the record's mounts.
      const worst = (a.mounts as any[]).reduce((w, x) => (!w || x.percent > w.percent ? x : w), undefined);
      if (!worst) return false;
      const want = [a.name, 'online', pct(m.cpuPercent), pct(m.memPercent), pct(worst.percent), rate(m.netRxRate), rate(m.netTxRate), duration(m.uptimeSeconds), String(m.processCount)];
      const row = rows.find((r) => r[0] === a.name);
      return row && want.every((w, i) => row[i] === w || (cols[i] === 'Uptime' && Math.abs(parseInt(row[i]!) - parseInt(w)) <= 1));
    });
  }, 20_000, 'fleet rows equal to /api/agents');
  const alpha = (await apiJson<any[]>(mgr.dataDir, '/api/agents')).find((a) => a.name === 'alpha');
  assert.ok(alpha.mounts.length > 0 && alpha.mounts.every((x: any) => typeof x.type === 'string' && typeof x.available === 'number'), 'the record\'s mounts with type and available');
  const title = await page.locator('table.fleet tbody tr', { hasText: 'alpha' }).locator('td').nth(4).getAttribute('title');
  assert.match(title ?? '', /^fullest mount: \//, 'the Disk cell names its mount');
  await page.getByText('3 online').or(page.locator('.count[data-kind=online]', { hasText: '3' })).first().waitFor();
});

it('sorting and filtering the fleet', async () => {
  await page.getByLabel('Filter by name').fill('alp');
  await waitFor(async () => (await page.locator('table.fleet tbody tr').count()) === 1, 15_000, 'one row');
  await page.getByLabel('Filter by name').fill('');
  await page.getByRole('button', { name: 'Name' }).click();
  await waitFor(async () => (await page.locator('table.fleet tbody tr').first().locator('td').first().textContent()) === XSS_NAME || (await page.locator('table.fleet tbody tr').first().locator('td').first().textContent()) === 'beta', 15_000, 'sorted descending');
  await page.getByRole('button', { name: 'Name' }).click();
  await page.getByLabel('State').selectOption('offline');
  await waitFor(async () => (await page.locator('table.fleet tbody tr').count()) === 0, 15_000, 'no offline agent');
  await page.getByLabel('State').selectOption('');
});

it('an agent named with HTML is shown as text, never run', async () => {
  await page.locator('table.fleet tbody tr', { hasText: XSS_NAME }).waitFor();
  assert.is(await page.locator('table.fleet img').count(), 0);
  assert.is(await page.evaluate(() => (globalThis as any).__xss), undefined);
  await page.getByRole('link', { name: XSS_NAME }).click();
  await page.getByRole('heading', { name: XSS_NAME }).waitFor();
  assert.is(await page.locator('main img').count(), 0);
  assert.is(await page.evaluate(() => (globalThis as any).__xss), undefined);
});

it('a host page draws its charts with data', async () => {
  await page.goto(`${base}#/`);
  await page.getByRole('link', { name: 'alpha', exact: true }).click();
  await page.getByRole('heading', { name: /alpha/ }).waitFor();
  await page.locator('figure.chart canvas').first().waitFor();
  const agentRec = (await apiJson<any[]>(mgr.dataDir, '/api/agents')).find((a) => a.name === 'alpha');
  // Per mount and per interface: the disk chart has one series per mount; a network chart per interface with traffic.
  const diskFig = page.locator('figure.chart[data-chart="Disk used per mount"]');
  await diskFig.waitFor();
  for (const mt of agentRec.mounts) await diskFig.locator('.u-legend').getByText(mt.mount, { exact: true }).first().waitFor();
  assert.ok(Number(await diskFig.getAttribute('data-points')) > 0, 'the per-mount chart has data');
  const ifFigs = page.locator('figure.chart[data-chart^="Network "]:not([data-chart="Network, all but loopback"])');
  const ifCount = await ifFigs.count();
  assert.ok(ifCount >= 1, 'a chart per interface');
  const points = await ifFigs.evaluateAll((figs) => figs.map((f) => [f.getAttribute('data-chart'), Number(f.getAttribute('data-points'))]));
  assert.ok(points.every(([, n]) => (n as number) > 0), `every interface chart has data: ${JSON.stringify(points)}`);
  assert.is(await page.locator('figure.chart').count(), 5 + ifCount);
  // Pixels of the CPU series' colour on the CPU chart's canvas: the line is drawn.
  const drawn = await waitFor(() => page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as any;
    const fig = document.querySelector('figure.chart[data-chart="CPU"]')!;
    const c = fig.querySelector('canvas')!;
    const ctx = c.getContext('2d')!;
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const want = getComputedStyle(document.documentElement).getPropertyValue('--c1').trim();
    const [r, g, b] = [1, 3, 5].map((i: number) => parseInt(want.slice(i, i + 2), 16));
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - r!) < 30 && Math.abs(px[i + 1]! - g!) < 30 && Math.abs(px[i + 2]! - b!) < 30 && px[i + 3]! > 200) n++;
    return n > 20 ? n : 0;
  }), 10_000, 'CPU line pixels');
  assert.ok(drawn > 20);
  const diskDrawn = await waitFor(() => page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as any;
    const c = document.querySelector('figure.chart[data-chart="Disk used per mount"] canvas')!;
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const want = getComputedStyle(document.documentElement).getPropertyValue('--c3').trim();
    const [r, g, b] = [1, 3, 5].map((i: number) => parseInt(want.slice(i, i + 2), 16));
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - r!) < 30 && Math.abs(px[i + 1]! - g!) < 30 && Math.abs(px[i + 2]! - b!) < 30 && px[i + 3]! > 200) n++;
    return n > 20 ? n : 0;
  }), 10_000, 'the first mount\'s line pixels');
  assert.ok(diskDrawn > 20);
  // Each section once: the headings' ids are unique (a section added twice took the first one's nodes).
  const ids: string[] = await page.locator('main h2').evaluateAll((els) => els.map((e) => e.id));
  assert.equal(ids, [...new Set(ids)], 'one heading a section');
  const note = await page.locator('section', { has: page.getByRole('heading', { name: 'Charts' }) }).locator('p.small').textContent();
  assert.match(note ?? '', /^[1-9]\d* points/);
  // The ranges load without an error.
  await page.getByRole('button', { name: '24 h' }).click();
  await waitFor(async () => /points/.test((await page.locator('section', { has: page.getByRole('heading', { name: 'Charts' }) }).locator('p.small').textContent()) ?? ''), 15_000, '24 h loaded');
  await page.getByRole('button', { name: 'Live' }).click();
  // The mounts table comes from the record's mounts, with the filesystem type.
  const mountsBox = page.locator('section', { has: page.getByRole('heading', { name: 'Mounts' }) });
  await mountsBox.getByRole('cell', { name: '/', exact: true }).first().waitFor();
  const root = agentRec.mounts.find((x: any) => x.mount === '/');
  await mountsBox.getByRole('cell', { name: root.type, exact: true }).first().waitFor();
});

it('Processes and Logs show their results', async () => {
  await page.getByRole('button', { name: 'Processes' }).click();
  const procs = await page.locator('[data-result=procs]').textContent();
  assert.match(procs ?? '', /^\d+ processes$/);
  await page.getByLabel('Lines').fill('5');
  await page.getByRole('button', { name: 'Logs' }).click();
  const text = await page.locator('[data-result=logs]').textContent();
  assert.equal(text!.split('\n'), [196, 197, 198, 199, 200].map((n) => `line ${n} <b>not bold</b>`));
  assert.is(await page.locator('[data-result=logs] b').count(), 0, 'log lines are text');
});

it('Download gets the file, with the sha256 shown and matching', async () => {
  const want = createHash('sha256').update(readFileSync(payload)).digest('hex');
  await page.getByLabel('Path').fill(payload);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
  const saved = join(work, 'downloaded.bin');
  await download.saveAs(saved);
  assert.is(createHash('sha256').update(readFileSync(saved)).digest('hex'), want);
  assert.is(await page.locator('[data-result=sha256]').textContent(), want);
  await page.getByText("(the same as the agent's)").waitFor();
});

it('a command that fails shows its error code on the page', async () => {
  await page.getByLabel('Path').fill('/etc/hostname');
  await page.getByRole('button', { name: 'Download' }).click();
  await page.getByRole('alert').filter({ hasText: 'FILE_NOT_FOUND' }).waitFor(); // outside --files-root: as if missing
  await page.getByLabel('Path').fill(join(work, 'no-such-file'));
  await page.getByRole('button', { name: 'Download' }).click();
  await page.getByRole('alert').filter({ hasText: 'FILE_NOT_FOUND' }).waitFor();
  await page.getByLabel('Lines').fill('0');
  await page.getByRole('button', { name: 'Logs' }).click();
  await page.getByRole('alert').filter({ hasText: 'BAD_ARGS' }).waitFor();
  await page.getByLabel('Lines').fill('50');
});

it('Restart runs the restart command only after the typed confirmation, recorded with the user', async () => {
  rmSync(marker, { force: true });
  await page.getByRole('button', { name: 'Restart', exact: true }).click();
  const confirm = page.getByRole('button', { name: 'Confirm restart' });
  await confirm.waitFor();
  assert.ok(await confirm.isDisabled(), 'disabled before the name is typed');
  await page.getByLabel(/Type the host's name/).fill('alph');
  assert.ok(await confirm.isDisabled(), 'disabled with a wrong name');
  assert.not.ok(existsSync(marker), 'not restarted yet');
  await page.getByLabel(/Type the host's name/).fill('alpha');
  await confirm.click();
  await waitFor(() => existsSync(marker), 10_000, 'the restart command ran');
  await page.getByText(/Restart acknowledged by alpha/).waitFor();
  const rec = await waitFor(() => events().find((e) => e.event === 'command' && e.cmd === 'restart'), 15_000, 'restart in events.jsonl');
  assert.match(rec.by, /^web admin \(/);
});

it('a viewer sees the fleet, and a restart from it is refused', async () => {
  const ctx = await newContext(browser);
  try {
    const p = await ctx.newPage();
    await signIn(p, base, 'watcher', VIEWER_PW);
    await p.getByRole('link', { name: 'alpha', exact: true }).click();
    assert.ok(await p.getByRole('button', { name: 'Restart', exact: true }).isDisabled());
    // No Status needed: the viewer sees the mounts from the record.
    await p.locator('section', { has: p.getByRole('heading', { name: 'Mounts' }) }).locator('table[data-table=mounts]').getByRole('cell', { name: '/', exact: true }).first().waitFor();
    rmSync(marker, { force: true });
    const r = await p.evaluate(async () => {
      const me = (await (await fetch('/api/web/me')).json()) as any;
      const res = await fetch('/api/agents/alpha/restart', { method: 'POST', headers: { 'x-csrf-token': me.csrf, 'content-type': 'application/json' }, body: '{}' });
      const dl = await fetch('/api/agents/alpha/fetch?path=/etc/hostname');
      return { status: res.status, body: (await res.json()) as any, download: dl.status };
    });
    assert.is(r.status, 403);
    assert.is(r.body.error.code, 'FORBIDDEN');
    assert.is(r.download, 403, 'a viewer downloads nothing');
    assert.not.ok(existsSync(marker));
  } finally {
    await ctx.close();
  }
});

it('the host page\'s Top processes: a live table sorted by the select, command lines for admins only', async () => {
  await page.goto(`${base}#/`);
  await page.getByRole('link', { name: 'alpha', exact: true }).click();
  const table = page.getByRole('table', { name: 'Top processes' });
  await table.waitFor({ timeout: 20_000 });
  const heads = await table.getByRole('columnheader').allInnerTexts();
  assert.equal(heads, ['PID', 'User', 'Name', 'CPU %', 'Memory', 'I/O', 'State', 'Started', 'Command']);
  assert.ok((await table.locator('tbody tr').count()) > 1);
  const align = await table.locator('thead th').evaluateAll((ths) => ths.map((th) => (globalThis as any).getComputedStyle(th).textAlign as string));
  assert.equal(align, ['right', 'left', 'left', 'right', 'right', 'right', 'left', 'left', 'left'], 'numeric headers over their right-aligned numbers');
  const started = await table.locator('tbody tr td:nth-child(8)').allInnerTexts();
  assert.ok(started.every((t) => /^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d$|^-$/.test(t)), `24-hour times as elsewhere on the page: ${started.join(' | ')}`);
  // Command lines are shown to an admin (any of the busiest: on a loaded machine the agent itself
  // need not be among the 15 busiest, so it is not looked for by name).
  await waitFor(async () => (await table.locator('tbody tr td:nth-child(9)').allInnerTexts()).some((c) => c.trim() !== '' && c !== '-'), 15_000, 'command lines shown to an admin');
  await page.getByLabel('Sort by').selectOption('mem');
  await waitFor(async () => {
    const mem = await table.locator('tbody tr td:nth-child(5)').allInnerTexts();
    return mem.length > 1 && /MB|GB/.test(mem[0]!);
  }, 10_000, 'sorted by memory');
  const ctx = await newContext(browser);
  try {
    const p = await ctx.newPage();
    await signIn(p, base, 'watcher', VIEWER_PW);
    await p.getByRole('link', { name: 'alpha', exact: true }).click();
    const t = p.getByRole('table', { name: 'Top processes' });
    await t.waitFor({ timeout: 20_000 });
    await t.locator('tbody tr').nth(1).waitFor();
    assert.equal(await t.getByRole('columnheader').allInnerTexts(), ['PID', 'User', 'Name', 'CPU %', 'Memory', 'I/O', 'State', 'Started'], 'no command column (of dashes) for a viewer');
    assert.is(await t.locator('td.cmd').count(), 0);
    await p.getByText('command: shown to admins only').waitFor();
  } finally {
    await ctx.close();
  }
});

it('a request without the CSRF token is refused', async () => {
  const r = await page.evaluate(async () => {
    const res = await fetch('/api/agents/beta/procs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const wrong = await fetch('/api/agents/beta/procs', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'guess' }, body: '{}' });
    return [res.status, ((await res.json()) as any).error.code, wrong.status];
  });
  assert.equal(r, [403, 'CSRF_REJECTED', 403]);
});

it('a hidden tab closes its event stream and reopens it (with a fresh snapshot) when shown', async () => {
  const streams = async () => (await apiJson<any>(mgr.dataDir, '/api/web/stats')).streams.clients as number;
  await page.goto(`${base}#/`);
  await page.locator('table.fleet tbody tr').first().waitFor();
  await waitFor(async () => (await streams()) === 1, 10_000, 'one stream open');
  const setHidden = (hidden: boolean) => page.evaluate((h) => {
    const d = (globalThis as any).document;
    Object.defineProperty(d, 'hidden', { configurable: true, get: () => h });
    d.dispatchEvent(new (globalThis as any).Event('visibilitychange'));
  }, hidden);
  const late = startAgent(mgr, ['--name', 'while-hidden']);
  await waitOnline(mgr.dataDir, 'while-hidden', 30_000, late);
  const row = page.locator('table.fleet tbody tr', { has: page.getByRole('link', { name: 'while-hidden', exact: true }) });
  await row.locator('.badge', { hasText: 'online' }).waitFor();
  await setHidden(true);
  await waitFor(async () => (await streams()) === 0, 10_000, 'the hidden tab\'s stream closed');
  // It goes away while the tab is hidden: no later event says so, only the reload when shown.
  await late.kill();
  await waitFor(async () => (await apiJson<any[]>(mgr.dataDir, '/api/agents')).some((a) => a.name === 'while-hidden' && !a.online), 10_000, 'offline');
  await setHidden(false);
  await waitFor(async () => (await streams()) === 1, 10_000, 'reopened when shown');
  await page.locator('.live[data-live=yes]').waitFor();
  await row.locator('.badge', { hasText: /offline|down/ }).waitFor();
});

it('a new alert appears on the alerts page without reloading', async () => {
  await page.goto(`${base}#/alerts`);
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
  await page.evaluate(() => ((globalThis as any).__same = 1));
  startAgent(mgr, ['--name', 'hot', '--cpu-threshold', '0', '--cpu-for', '1']);
  await page.locator('table.alerts tbody tr', { hasText: 'CPU_HIGH' }).filter({ hasText: 'hot' }).waitFor({ timeout: 30_000 });
  assert.is(await page.evaluate(() => (globalThis as any).__same), 1, 'the page was not reloaded');
  await page.getByLabel('Type').selectOption('CPU_HIGH');
  assert.ok((await page.locator('table.alerts tbody tr').count()) >= 1);
  await page.getByLabel('Host').fill('nosuchhost');
  await page.getByText('No alert matches the filter.').waitFor();
  await page.getByLabel('Host').fill('');
  await page.getByLabel('Type').selectOption('');
});

it('the pending page shows the fingerprint, and Accept moves the agent to the fleet', async () => {
  await page.goto(`${base}#/pending`);
  const [p] = await apiJson<any[]>(mgr.dataDir, '/api/pending');
  await page.getByText(p.fingerprint).waitFor();
  await screenshots('pending');
  await page.getByRole('button', { name: 'Accept newcomer' }).click();
  await page.getByText('Accepted newcomer.').waitFor();
  await waitFor(async () => (await apiJson<any[]>(mgr.dataDir, '/api/agents')).some((a) => a.name === 'newcomer'), 10_000, 'accepted');
});

it('Reject on the pending page, once the name is typed, refuses the key from now on', async () => {
  startAgent(mgr, ['--name', 'stranger'], tempDir('hw-agent-'), false);
  await waitFor(async () => (await apiJson<any[]>(mgr.dataDir, '/api/pending')).some((a) => a.name === 'stranger'), 20_000, 'stranger pending');
  await page.goto(`${base}#/pending`);
  await page.getByRole('button', { name: 'Reject stranger' }).click();
  const confirm = page.getByRole('button', { name: 'Confirm reject' });
  assert.ok(await confirm.isDisabled(), 'not before the name is typed');
  await page.getByLabel(/Type the host's name/).fill('stranger');
  await screenshot(page, 'pending-reject-light-1440');
  await confirm.click();
  await page.getByText(/Rejected stranger/).waitFor();
  await waitFor(async () => !(await apiJson<any[]>(mgr.dataDir, '/api/pending')).some((a) => a.name === 'stranger'), 10_000, 'no longer pending');
  const rec = await waitFor(() => events().find((e) => e.event === 'reject' && e.agent?.name === 'stranger'), 15_000, 'reject recorded');
  assert.match(rec.by, /^web admin /);
});

it('a one-time sign-in link works once', async () => {
  const r = await cli(mgr.dataDir, ['login-link']);
  assert.is(r.code, 0, r.stderr);
  const url = /(http:\/\/\S+login-link\?t=\S+)/.exec(r.stdout)![1]!;
  const a = await newContext(browser);
  const b = await newContext(browser, { dark: true, width: 390, height: 844 });
  try {
    // A link preview (GETs, no script) does not use the link up.
    for (let i = 0; i < 2; i++) {
      const peek = await fetch(url, { redirect: 'manual' });
      assert.is(peek.status, 303);
      assert.match(peek.headers.get('location') ?? '', /^\/#\/sign-in\?token=/);
    }
    const pa = await a.newPage();
    await pa.goto(url);
    await pa.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.not.match(pa.url(), /token=/, 'the token leaves the address bar');
    await screenshot(pa, 'sign-in-link-light-1440');
    await pa.getByRole('button', { name: 'Sign in' }).click();
    await pa.getByRole('heading', { name: 'Fleet' }).waitFor();
    // Used: a second browser's click is refused, and opening it again says so at once.
    const pb = await b.newPage();
    const token = new URL(url).searchParams.get('t')!;
    await pb.goto(`${new URL(url).origin}/#/sign-in?token=${encodeURIComponent(token)}`);
    await pb.getByRole('button', { name: 'Sign in' }).click();
    await pb.getByText(/sign-in link was used already.*BAD_CREDENTIALS/).waitFor();
    await screenshot(pb, 'sign-in-link-used-dark-390');
    await pb.getByRole('link', { name: 'Sign in with a user name and password' }).click();
    await pb.getByLabel('Username').waitFor();
    await pb.goto(url);
    await pb.getByText(/sign-in link was used already/).waitFor();
    assert.is(await pb.getByRole('heading', { name: 'Fleet' }).count(), 0);
  } finally {
    await a.close();
    await b.close();
  }
});

it('signing in and reaching a host work with the keyboard alone', async () => {
  const ctx = await newContext(browser);
  try {
    const p = await ctx.newPage();
    await p.goto(base);
    await p.getByLabel('Username').waitFor();
    // The username field has the focus on arrival; Tab moves to the password; Enter submits.
    await p.keyboard.type('admin');
    await p.keyboard.press('Tab');
    await p.keyboard.type(ADMIN_PW);
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Fleet' }).waitFor();
    await p.getByRole('link', { name: 'beta', exact: true }).focus();
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: /beta/ }).waitFor();
    // The theme follows the system until switched, and stays switched.
    assert.is(await p.evaluate(() => (globalThis as any).document.documentElement.dataset.theme), 'auto');
    await p.getByRole('button', { name: /^Theme/ }).click();
    assert.is(await p.evaluate(() => (globalThis as any).document.documentElement.dataset.theme), 'light');
    await p.getByRole('button', { name: /^Theme/ }).click();
    assert.is(await p.evaluate(() => (globalThis as any).document.documentElement.dataset.theme), 'dark');
    await p.reload();
    await p.getByRole('heading', { name: /beta/ }).waitFor();
    assert.is(await p.evaluate(() => (globalThis as any).document.documentElement.dataset.theme), 'dark');
  } finally {
    await ctx.close();
  }
});

it('a new password (manager user passwd) signs the user\'s open sessions out', async () => {
  const ctx = await newContext(browser);
  try {
    const p = await ctx.newPage();
    await signIn(p, base, 'watcher', VIEWER_PW);
    const before = await p.evaluate(async () => (await fetch('/api/agents')).status);
    assert.is(before, 200);
    const r = await cliWithInput(['user', 'passwd', 'watcher', '--password-stdin'], 'another password 2\n');
    assert.is(r.code, 0, r.out);
    const after = await p.evaluate(async () => (await fetch('/api/agents')).status);
    assert.is(after, 401);
  } finally {
    await ctx.close();
  }
});

it('Revoke from the host page, after typing the name, disconnects the agent and refuses its key', async () => {
  await page.goto(`${base}#/`);
  await page.getByRole('link', { name: 'newcomer', exact: true }).click();
  await page.getByRole('heading', { name: /newcomer/ }).waitFor();
  await page.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByLabel(/Type the host's name/).fill('newcomer');
  await page.getByRole('button', { name: 'Confirm revoke' }).click();
  await page.getByText(/newcomer is revoked/).waitFor();
  await waitFor(async () => !(await apiJson<any[]>(mgr.dataDir, '/api/agents')).some((a) => a.name === 'newcomer'), 10_000, 'revoked');
  const rec = await waitFor(() => events().find((e) => e.event === 'revoke' && e.agent?.name === 'newcomer'), 15_000, 'revoke recorded');
  assert.match(rec.by, /^web admin \(/);
});

/** The page now in light and dark, 1440 and 390 px wide, into .build/screenshots/. */
async function screenshots(name: string): Promise<void> {
  const hash = new URL(page.url()).hash;
  for (const dark of [false, true]) {
    for (const width of [1440, 390]) {
      if (!dark && width === 1440) {
        await screenshot(page, `${name}-light-1440`);
        continue;
      }
      const ctx = await newContext(browser, { dark, width, height: width > 400 ? 900 : 844 });
      try {
        const p = await ctx.newPage();
        await signIn(p, base, 'admin', ADMIN_PW);
        await p.goto(`${base}${hash}`);
        await p.getByRole('heading').first().waitFor();
        if (name === 'host') {
          await p.locator('figure.chart canvas').first().waitFor({ timeout: 30_000 });
          await p.locator('section', { has: p.getByRole('heading', { name: 'Mounts' }) }).locator('table').waitFor({ timeout: 10_000 });
          await p.getByRole('table', { name: 'Top processes' }).waitFor({ timeout: 20_000 });
        }
        await screenshot(p, `${name}-${dark ? 'dark' : 'light'}-${width}`);
      } finally {
        await ctx.close();
      }
    }
  }
}

it('screenshots of every page, light and dark, wide and narrow', async () => {
  await page.goto(`${base}#/`);
  await page.locator('table.fleet tbody tr').first().waitFor();
  await screenshots('fleet');
  await page.getByRole('link', { name: 'alpha', exact: true }).click();
  await page.locator('figure.chart canvas').first().waitFor({ timeout: 30_000 }).catch(async (err) => {
    await screenshot(page, 'debug-host');
    throw new Error(`${(err as Error).message}\n${await page.locator('main').innerText()}\nerrors: ${pageErrors.join('\n')}`);
  });
  await screenshots('host');
  await page.goto(`${base}#/alerts`);
  await page.locator('table.alerts').waitFor();
  await screenshots('alerts');
  const ctx = await newContext(browser, { dark: false });
  const p = await ctx.newPage();
  for (const dark of [false, true]) {
    for (const width of [1440, 390]) {
      await p.emulateMedia({ colorScheme: dark ? 'dark' : 'light' });
      await p.setViewportSize({ width, height: 800 });
      await p.goto(base);
      await p.getByRole('button', { name: 'Sign in' }).waitFor();
      await screenshot(p, `sign-in-${dark ? 'dark' : 'light'}-${width}`);
    }
  }
  await ctx.close();
}, 120_000);

it('the page threw no script error and logged none', async () => {
  assert.equal(pageErrors, []);
});

test.run();
