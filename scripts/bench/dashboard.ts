// Dashboard: 1,000 simulated agents (real protocol, from a separate simulator process) reporting
// once a second, first with no dashboard open, then with 20 open dashboards: 19 event-stream
// clients that parse every event as the page does, and one real Chromium page on the fleet.
// Measures the manager's extra CPU for them, the time from a report arriving at the manager
// (lastSeen) to a client having it and to the page's row showing it, and the fleet page's first
// render with every agent in it, its meters coloured by the rules, and the bytes the page loads.
// The manager runs a usual set of rules (CPU, memory, disk per mount; a tenth of the fleet with
// lower lines), none of them firing within the run: the meters have lines to be coloured by.

import { request, type IncomingMessage } from 'node:http';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserStore } from '../../common/web/users.ts';
import { CpuMeter } from './proc-stats.ts';
import { BUILD, fmt, quantile, sleep, SIM_JS, spawnNode, startManager, tempDir, type ManagerProc, type Proc } from './procs.ts';
import { table, type Ctx, type Outcome, type Scenario } from './report.ts';

const CHROMIUM = '/usr/bin/chromium';
const CPU_GOAL = 5;
const LATENCY_GOAL_MS = 500;
const RENDER_GOAL_MS = 1000;
/** The rules: lines no simulated agent crosses for an hour, a tenth of the fleet (web-*0) with lower ones. */
const RULES = [
  'rules:',
  '  cpu_high: { metric: cpu, above: 90, for: 1h }',
  '  memory_high: { metric: memory, above: 90, for: 1h }',
  '  disk_full: { metric: disk, above: 90, for: 1h, per: mount, exclude_fstypes: [tmpfs] }',
  'agents:',
  '  "web-*0": { cpu_high: { above: 30 }, memory_high: { above: 50 }, disk_full: { above: 45 } }',
  '',
].join('\n');

/** What a page loaded: its document's and every resource's body bytes, and the API's share. */
interface Loaded { all: number; api: number; requests: number; largest: string }

function signIn(port: number, user: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username: user, password });
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/web/sign-in', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      const cookie = String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
      if (res.statusCode !== 200 || !cookie) reject(new Error(`sign-in: HTTP ${res.statusCode}`));
      else resolve(cookie);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An event-stream client that parses each event as the page does and notes each row's age. */
function streamClient(port: number, cookie: string, ages: number[]): Promise<{ close: () => void; bytes: () => number }> {
  return new Promise((resolve, reject) => {
    let res: IncomingMessage | undefined;
    let bytes = 0;
    const req = request({ host: '127.0.0.1', port, path: '/api/web/events', headers: { cookie } }, (r) => {
      res = r;
      r.setEncoding('utf8');
      let buf = '';
      r.on('data', (d: string) => {
        bytes += d.length;
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (!block.startsWith('event: agents')) continue;
          const now = Date.now();
          const rows = JSON.parse(block.slice(block.indexOf('\ndata: ') + 7)) as { lastSeen: string | null }[];
          for (const row of rows) if (row.lastSeen && ages.length < 2_000_000) ages.push(now - Date.parse(row.lastSeen));
        }
      });
      resolve({ close: () => { req.destroy(); res?.destroy(); }, bytes: () => bytes });
    });
    req.on('error', reject);
    req.end();
  });
}

async function online(mgr: ManagerProc): Promise<number> {
  const s = await mgr.api.json<{ agentsOnline: number }>('GET', '/api/stats');
  return s.agentsOnline;
}

export const dashboard: Scenario = {
  id: 'dashboard',
  title: 'Dashboard: 1,000 agents, 20 open dashboards',
  async run(ctx: Ctx): Promise<Outcome> {
    const n = ctx.quick ? 200 : 1000;
    const clients = ctx.quick ? 5 : 20;
    const windowS = ctx.quick ? 5 : 30;
    const dataDir = tempDir('hw-bench-web-');
    await new UserStore(dataDir).add('bench', 'viewer', 'bench password');
    writeFileSync(join(dataDir, 'manager.yaml'), RULES);
    const mgr = await startManager({ dataDir, extra: ['--config', join(dataDir, 'manager.yaml')] });
    const port = mgr.api.port;
    const procs: Proc[] = [];
    const streams: { close: () => void; bytes: () => number }[] = [];
    let browser: import('playwright-core').Browser | undefined;
    let page: import('playwright-core').Page | undefined;
    try {
      const sim = spawnNode(SIM_JS, ['--count', String(n), '--port', String(mgr.tcpPort), '--udp-port', String(mgr.udpPort), '--prefix', 'web', '--ramp-ms', String(Math.max(1000, n * 5))], { nofile: 65536 });
      procs.push(sim);
      const t0 = Date.now();
      while ((await online(mgr)) < n) {
        if (sim.child.exitCode !== null) throw new Error(`simulator exited: ${sim.output().slice(-500)}`);
        if (Date.now() - t0 > 120_000) throw new Error(`only ${await online(mgr)} of ${n} agents online after 120 s`);
        await sleep(250);
      }
      await sleep(5000); // past the connection burst
      ctx.log(`  dashboard: ${n} agents online, measuring ${windowS} s without dashboards`);
      const base = new CpuMeter(mgr.pid).start();
      await sleep(windowS * 1000);
      const idle = base.read();

      // The browser: the fleet's first render with every agent, then it stays open as one dashboard.
      let firstRenderMs: number | null = null;
      let firstRowMs: number | null = null;
      let colouredMs: number | null = null;
      let pageLoad: Loaded | null = null;
      const pageAges: number[] = [];
      const haveBrowser = existsSync(CHROMIUM);
      const cookie = await signIn(port, 'bench', 'bench password');
      if (haveBrowser) {
        const { chromium } = await import('playwright-core');
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
        });
        const bctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        await bctx.addCookies([{ name: 'hw_session', value: cookie.split('=')[1]!, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Strict' }]);
        page = await bctx.newPage();
        // Three loads: the first warms the browser's caches; the figure is the median of the others.
        const renders: number[] = [];
        const firsts: number[] = [];
        for (let i = 0; i < 3; i++) {
          await page.goto('about:blank'); // a new document each time, not a hash change
          await page.goto(`http://127.0.0.1:${port}/#/`);
          await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('table.fleet tbody tr').length >= 1, undefined, { polling: 'raf', timeout: 30_000 });
          const first = await page.evaluate(() => performance.now());
          await page.waitForFunction((want) => (globalThis as any).document.querySelectorAll('table.fleet tbody tr').length >= want, n, { polling: 'raf', timeout: 30_000 });
          const all = await page.evaluate(() => performance.now());
          if (i) {
            renders.push(all);
            firsts.push(first);
          }
          if (i === 2) {
            // The last load: when its meters have their rules' colours, and what it fetched by then.
            await page.waitForFunction(() => (globalThis as any).document.querySelector('table.fleet tbody td[data-level]:not([data-level="none"])'), undefined, { polling: 'raf', timeout: 30_000 });
            colouredMs = await page.evaluate(() => performance.now());
            pageLoad = await page.evaluate(() => {
              type Entry = { name: string; encodedBodySize: number };
              const perf = (globalThis as any).performance;
              const list: Entry[] = [...perf.getEntriesByType('navigation'), ...perf.getEntriesByType('resource')];
              const path = (e: Entry) => new URL(e.name).pathname;
              const big = [...list].sort((a, b) => b.encodedBodySize - a.encodedBodySize)[0];
              return {
                all: list.reduce((a, e) => a + e.encodedBodySize, 0),
                api: list.filter((e) => path(e).startsWith('/api/')).reduce((a, e) => a + e.encodedBodySize, 0),
                requests: list.length,
                largest: big ? `${path(big)} ${Math.round(big.encodedBodySize / 1024)} KiB` : '-',
              };
            });
          }
        }
        firstRenderMs = quantile(renders, 0.5);
        firstRowMs = quantile(firsts, 0.5);
        // Sorted by CPU, the order changes with every report: the worst case for the page.
        await page.getByRole('button', { name: 'CPU', exact: true }).click();
        // From the report's arrival at the manager to the row's DOM update (the row carries lastSeen),
        // and the main thread's long tasks (over 50 ms: what makes a page feel stuck) meanwhile.
        await page.evaluate(() => {
          const g = globalThis as any;
          g.__ages = [];
          g.__long = [];
          new g.PerformanceObserver((l: any) => { for (const e of l.getEntries()) g.__long.push(e.duration); }).observe({ type: 'longtask' });
          new g.MutationObserver((list: any[]) => {
            const now = Date.now();
            for (const m of list) if (m.attributeName === 'data-seen' && m.target.dataset.seen) g.__ages.push(now - Date.parse(m.target.dataset.seen));
          }).observe(g.document.querySelector('table.fleet tbody'), { attributes: true, subtree: true, attributeFilter: ['data-seen'] });
        });
      }

      const ages: number[] = [];
      for (let i = 0; i < clients - (haveBrowser ? 1 : 0); i++) streams.push(await streamClient(port, cookie, ages));
      await sleep(3000);
      ages.length = 0;
      ctx.log(`  dashboard: ${clients} dashboards open, measuring ${windowS} s`);
      const loaded = new CpuMeter(mgr.pid).start();
      await sleep(windowS * 1000);
      const busy = loaded.read();
      const sent = streams.reduce((a, s) => a + s.bytes(), 0);
      let longTasks: number[] = [];
      if (page) {
        pageAges.push(...(await page.evaluate(() => (globalThis as any).__ages.splice(0) as number[])));
        longTasks = await page.evaluate(() => (globalThis as any).__long.splice(0) as number[]);
        mkdirSync(join(BUILD, 'screenshots'), { recursive: true });
        await page.screenshot({ path: join(BUILD, 'screenshots', `fleet-${n}.png`) });
      }
      const extra = busy.percent - idle.percent;
      const p = (xs: number[], q: number) => (xs.length ? fmt.ms(quantile(xs, q)) : 'n/a');
      const latencyP99 = pageAges.length ? quantile(pageAges, 0.99) : ages.length ? quantile(ages, 0.99) : NaN;
      const body = [
        `${n} simulated agents reporting every second (real protocol and TLS, from a separate process); the manager's CPU over ${windowS} s without any dashboard, then with ${clients} open: ${clients - (haveBrowser ? 1 : 0)} event-stream clients that parse every event as the page does${haveBrowser ? ', and one Chromium page on the fleet' : ''}.`,
        '',
        ...table(['', 'value'], [
          ['manager CPU, no dashboard', fmt.pct(idle.percent, 1)],
          [`manager CPU, ${clients} dashboards`, fmt.pct(busy.percent, 1)],
          ['**extra CPU for the dashboards**', `**${fmt.pct(extra, 1)} of a core**`],
          ['event-stream bytes a second, each client', fmt.int(sent / Math.max(1, streams.length) / busy.seconds)],
          ['report at the manager -> client has it, p50 / p99', `${p(ages, 0.5)} / ${p(ages, 0.99)}`],
          ['report at the manager -> page row updated, p50 / p99', haveBrowser ? `${p(pageAges, 0.5)} / ${p(pageAges, 0.99)}` : 'no Chromium'],
          [`page's long tasks (over 50 ms) in ${windowS} s, sorted by CPU`, page ? `${longTasks.length}, longest ${longTasks.length ? fmt.ms(Math.max(...longTasks)) : '-'}, ${fmt.ms(longTasks.reduce((a, b) => a + b, 0))} in all` : 'no Chromium'],
          [`fleet page, first row / all ${n} rows drawn (from navigation)`, firstRenderMs === null ? 'no Chromium' : `${fmt.ms(firstRowMs!)} / ${fmt.ms(firstRenderMs)}`],
          ['fleet page, meters in their rules\' colours (from navigation)', colouredMs === null ? 'no Chromium' : fmt.ms(colouredMs)],
          ['fleet page, bytes loaded by then: all / API answers (requests; the largest)', pageLoad === null ? 'no Chromium' : `${fmt.int(pageLoad.all / 1024)} KiB / ${fmt.int(pageLoad.api / 1024)} KiB (${pageLoad.requests}; ${pageLoad.largest})`],
        ]),
        '',
        'Agent changes are sent to every client together every 250 ms, serialised once; the page patches rows at most every 100 ms. A hidden tab closes its stream (and reloads the snapshot when shown again), so it costs the manager nothing.',
      ];
      return {
        body,
        commands: [`npm run bench -- --only dashboard${ctx.quick ? ' --quick' : ''}`],
        goals: [
          { goal: `extra manager CPU for ${clients} dashboards under ${CPU_GOAL}% of a core`, figure: fmt.pct(extra, 1), met: ctx.quick ? null : extra < CPU_GOAL },
          { goal: `report to page under ${LATENCY_GOAL_MS} ms`, figure: `p99 ${Number.isNaN(latencyP99) ? 'n/a' : fmt.ms(latencyP99)}`, met: ctx.quick || Number.isNaN(latencyP99) ? null : latencyP99 < LATENCY_GOAL_MS },
          { goal: `fleet page's first render with ${n} agents under ${RENDER_GOAL_MS} ms`, figure: firstRenderMs === null ? 'no Chromium' : fmt.ms(firstRenderMs), met: ctx.quick || firstRenderMs === null ? null : firstRenderMs < RENDER_GOAL_MS },
        ],
      };
    } finally {
      for (const s of streams) s.close();
      await browser?.close();
      for (const p of procs) p.child.kill('SIGTERM');
      mgr.child.kill('SIGTERM');
    }
  },
};
