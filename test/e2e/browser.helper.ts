// One Chromium for a browser test file: Debian's /usr/bin/chromium driven by playwright-core (no
// browser download), started lean for a closed network, with a fresh profile. Screenshots go to
// .build/screenshots/ for a person to look at.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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
