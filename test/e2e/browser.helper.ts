// One Chromium for a browser test file: Debian's /usr/bin/chromium driven by playwright-core (no
// browser download), started lean for a closed network, with a fresh profile. Screenshots go to
// .build/screenshots/ for a person to look at.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import { timed } from '../harness.helper.ts';
import { BUILD } from './procs.helper.ts';

export const CHROMIUM = process.env.HOSTWATCH_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(BUILD, 'screenshots');

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install it with \`apt-get install chromium\` to run the dashboard's browser tests`;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-extensions', '--mute-audio',
    ],
    timeout: 30_000,
  });
}

export async function newContext(browser: Browser, opts: { dark?: boolean; width?: number; height?: number } = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
    colorScheme: opts.dark ? 'dark' : 'light',
    acceptDownloads: true,
  });
  ctx.setDefaultTimeout(15_000);
  return ctx;
}

/** Signs in through the form, as a person does. */
export async function signIn(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(base);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Fleet' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * A browser test file's `it`: each test fails with the setup's error if it had one, and within `ms`;
 * without Chromium, one test says why the file is skipped.
 */
export function browserIt(file: string, setupError: () => unknown, defaultMs = 40_000): (name: string, fn: () => Promise<void>, ms?: number) => void {
  const missing = browserMissing();
  if (missing) test(`browser tests skipped: ${missing}`, () => console.warn(`${file}: SKIPPED, ${missing}`));
  return (name, fn, ms = defaultMs) => {
    if (!missing) test(name, timed(ms, async () => {
      const err = setupError();
      if (err) throw err;
      await fn();
    }));
  };
}

/** Script errors and console errors of the page's code into `into` (refused requests the browser logs itself are not ours). */
export function collectPageErrors(page: Page, into: string[]): void {
  page.on('pageerror', (e) => into.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && into.push(`console: ${m.text()}`));
}

/** A page in a fresh context of `browser`, its script errors collected into `errors`, signed in as `user`. */
export async function signedInPage(browser: Browser, base: string, user: string, password: string, errors: string[]): Promise<Page> {
  const page = await (await newContext(browser)).newPage();
  collectPageErrors(page, errors);
  await signIn(page, base, user, password);
  return page;
}

/** `<name>-light|dark-1440|390.png`: each in a fresh context, signed in; `ready` opens the page and waits for what is shown. */
export async function screenshotsLightDark(browser: Browser, name: string, base: string, user: string, password: string, ready: (p: Page) => Promise<void>): Promise<void> {
  for (const dark of [false, true]) {
    for (const width of [1440, 390]) {
      const ctx = await newContext(browser, { dark, width, height: width > 400 ? 900 : 844 });
      try {
        const p = await ctx.newPage();
        await signIn(p, base, user, password);
        await ready(p);
        await screenshot(p, `${name}-${dark ? 'dark' : 'light'}-${width}`);
      } finally {
        await ctx.close();
      }
    }
  }
}
