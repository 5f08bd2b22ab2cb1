/**
 * Where a UI test run leaves its files: step screenshots (`$HYPERLAB_UI_SCREENSHOTS`, e.g.
 * docs/screenshots to refresh the documentation's, else the run's artifact dir) and, on failure, a
 * screenshot of the page, its console log and the server log, in a temp dir whose path is printed.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './server';

export class Artifacts {
  /** This run's temp dir (failure dumps, and the step screenshots unless redirected). */
  readonly dir = mkdtempSync(path.join(tmpdir(), 'hyperlab-ui-'));
  /** Where step screenshots go. */
  readonly screenshots: string;
  private readonly started = Date.now();
  private readonly timings: Array<[string, number]> = [];

  constructor() {
    const wanted = process.env.HYPERLAB_UI_SCREENSHOTS;
    this.screenshots = wanted ? path.resolve(REPO_ROOT, wanted) : path.join(this.dir, 'screenshots');
    mkdirSync(this.screenshots, { recursive: true });
  }

  /** A viewport screenshot named e.g. `01-notebook-run.png`. */
  async screenshot(page: Page, name: string): Promise<string> {
    const file = path.join(this.screenshots, name);
    await page.screenshot({ path: file, animations: 'disabled', timeout: 60_000 });
    return file;
  }

  /** Times `fn` as step `label`. */
  async time<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await fn();
    } finally {
      this.timings.push([label, Date.now() - start]);
    }
  }

  /** The timings so far, one line each, and the total since this object was made. */
  summary(): string {
    const lines = this.timings.map(([label, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${label}`);
    return [...lines, `  ${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)} s  total`].join('\n');
  }

  /** Saves what there is to see of a failure and returns the dir it went to. */
  async dumpFailure(label: string, error: unknown, sources: { page?: Page; consoleLog?: string[]; serverLog?: string; extra?: Record<string, unknown> }): Promise<string> {
    const dir = path.join(this.dir, `failure-${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'error.txt'), error instanceof Error ? (error.stack ?? error.message) : String(error));
    if (sources.page && !sources.page.isClosed()) {
      await sources.page.screenshot({ path: path.join(dir, 'page.png'), fullPage: false, timeout: 30_000 }).catch((e: unknown) => writeFileSync(path.join(dir, 'page.png.error.txt'), String(e)));
      const html = await sources.page.content().catch(() => '');
      if (html) writeFileSync(path.join(dir, 'page.html'), html);
    }
    writeFileSync(path.join(dir, 'console.log'), (sources.consoleLog ?? []).join('\n') + '\n');
    if (sources.serverLog && existsSync(sources.serverLog)) copyFileSync(sources.serverLog, path.join(dir, 'server.log'));
    if (sources.extra) writeFileSync(path.join(dir, 'state.json'), JSON.stringify(sources.extra, null, 2));
    return dir;
  }
}
