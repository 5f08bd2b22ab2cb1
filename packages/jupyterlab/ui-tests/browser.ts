/**
 * Debian's Chromium, headless, driven by playwright-core. The page may talk to the lab server only:
 * any other request is aborted and recorded (nothing is downloaded at run time).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HYPERLAB_CHROMIUM || '/usr/bin/chromium';

export interface LabBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console messages, page errors and failed/blocked requests, in order, one per line. */
  log: string[];
  /** Requests to hosts other than the lab server (aborted). */
  blocked: string[];
  close(): Promise<void>;
}

export async function launchBrowser(allowedOrigin: string): Promise<LabBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set HYPERLAB_CHROMIUM`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-domain-reliability',
      '--disable-sync',
      '--no-first-run',
      '--no-default-browser-check',
      '--metrics-recording-only',
      '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  const log: string[] = [];
  const blocked: string[] = [];
  const stamp = () => new Date().toISOString().slice(11, 23);
  page.on('console', (message) => log.push(`${stamp()} console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => log.push(`${stamp()} pageerror: ${error.stack ?? error.message}`));
  page.on('requestfailed', (request) => log.push(`${stamp()} requestfailed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`));
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(allowedOrigin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    blocked.push(url);
    log.push(`${stamp()} blocked: ${url}`);
    return route.abort('blockedbyclient');
  });
  return {
    browser,
    context,
    page,
    log,
    blocked,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}
