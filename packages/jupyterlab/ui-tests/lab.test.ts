/**
 * The UI test (issues 6 and 15): a real JupyterLab (the venv's) in a real browser (Debian's
 * Chromium), with the HyperLab kernel and the @hyperlab/jupyterlab extension. Opens
 * notebooks/quickstart.ipynb, runs every cell in the HyperLab kernel, checks the Plotly figure is
 * drawn and its PNG snapshot written into the output, the YAML highlighting of a `%%adapter` cell,
 * opens the experiments panel and diffs two runs' configs, verifies the notebook's runs reproduce,
 * and finds the PNG again after save and reopen. Then a small notebook of every experiment kind
 * the test makes itself (`kinds-notebook.ts`): the continual heatmap and hypernetwork compression
 * in run cards and panel, a sweep's trials grouped, marked and sorted, Export Report, Verify
 * (with a sweep's outcome difference) and Insert Experiment Template from the command palette.
 * The steps share one server and one page, and a step is skipped when an earlier one failed.
 *
 *   npx tsc -p packages/jupyterlab/tsconfig.test.json && node --test packages/jupyterlab/lib-test/ui-tests/
 *
 * Needs .venv (scripts/setup-venv.sh: JupyterLab, the kernelspec, the extension) and
 * /usr/bin/chromium (or $HYPERLAB_CHROMIUM). Step screenshots go to $HYPERLAB_UI_SCREENSHOTS
 * (e.g. docs/screenshots) or the printed temp dir; a failure leaves a screenshot, the console log
 * and the server log there too.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { Artifacts } from './artifacts';
import { launchBrowser, type LabBrowser } from './browser';
import {
  activateNotebook,
  clearAllOutputs,
  collapseSidebar,
  executeCommand,
  findCell,
  hasCommand,
  kernelInfo,
  notebookState,
  openLab,
  openNotebook,
  pluginsActive,
  pollUntil,
  resizeRightSidebar,
  runAllAndWait,
  runRecords,
  scrollToCell,
} from './lab';
import { KINDS_NOTEBOOK, kindsNotebook } from './kinds-notebook';
import { checkPanelKinds, checkRunCards, exportReportFromPalette, insertTemplatesFromPalette, runKindsNotebook, verifyKindsFromPalette, type StepContext } from './kinds-steps';
import type { PlotlySnapshot } from './outputs';
import { checkPngAfterReopen, checkPngSnapshot, checkYamlHighlighting } from './quickstart-steps';
import { REPO_ROOT, startLab, type LabServer } from './server';

const NOTEBOOK = 'notebooks/quickstart.ipynb';
const MINUTE = 60_000;

/** The run records committed in the notebook: name → content hash. */
function committedRecords(): Record<string, string> {
  const notebook = JSON.parse(readFileSync(path.join(REPO_ROOT, NOTEBOOK), 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> };
  const records: Record<string, string> = {};
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const record = output.data?.['application/vnd.hyperlab.run.v1+json'] as { name: string; contentHash: string } | undefined;
      if (record) records[record.name] = record.contentHash;
    }
  }
  return records;
}

/** The extension's plugins each step needs (ids from packages/jupyterlab/src). */
const PLUGINS = {
  renderers: ['@hyperlab/jupyterlab:plotly', '@hyperlab/jupyterlab:run-card'],
  panel: ['@hyperlab/jupyterlab:experiments'],
  verify: ['@hyperlab/jupyterlab:verify'],
  commands: ['@hyperlab/jupyterlab:commands', '@hyperlab/jupyterlab:yaml-cells'],
};

describe('HyperLab in JupyterLab (real server, real browser)', { timeout: 30 * MINUTE }, () => {
  const artifacts = new Artifacts();
  let server: LabServer | undefined;
  let lab: LabBrowser | undefined;
  let page: Page;
  let broken: string | undefined;
  let snapshot: PlotlySnapshot | undefined;
  const context = (t: TestContext): StepContext => ({ page, server: server!, artifacts, t });

  /** Runs one step: skipped after an earlier failure; a failure dumps what there is to see. */
  async function step(t: TestContext, label: string, fn: () => Promise<void>): Promise<void> {
    if (broken) {
      t.skip(`an earlier step failed (${broken})`);
      return;
    }
    try {
      await artifacts.time(label, fn);
    } catch (error) {
      broken = label;
      const state = lab ? await notebookState(lab.page).catch((e: unknown) => ({ unavailable: String(e) })) : undefined;
      const dir = await artifacts.dumpFailure(label, error, { page: lab?.page, consoleLog: lab?.log, serverLog: server?.logFile, extra: { notebook: state, blockedRequests: lab?.blocked } });
      console.error(`# UI test step "${label}" failed; screenshot, console log and server log in ${dir}`);
      throw error;
    }
  }

  /** Fails with a clear message when the extension's plugins for a step are not active. */
  async function requirePlugins(ids: string[]): Promise<void> {
    const active = await pluginsActive(page, ids);
    const missing = ids.filter((id) => !active[id]);
    assert.deepEqual(missing, [], `plugins not active: ${missing.join(', ')} (is @hyperlab/jupyterlab built and installed in .venv? scripts/build-labextension.sh)`);
  }

  before(async () => {
    try {
      server = await artifacts.time('start jupyter lab', () => startLab({ notebooks: [NOTEBOOK], files: { [KINDS_NOTEBOOK]: kindsNotebook() }, workDir: path.join(artifacts.dir, 'server') }));
      lab = await artifacts.time('launch chromium', () => launchBrowser(server!.baseUrl));
      page = lab.page;
      page.setDefaultTimeout(2 * MINUTE);
    } catch (error) {
      broken = 'setup';
      const dir = await artifacts.dumpFailure('setup', error, { page: lab?.page, consoleLog: lab?.log, serverLog: server?.logFile });
      console.error(`# UI test setup failed; logs in ${dir}`);
      throw error;
    }
  });

  after(async () => {
    await artifacts.time('close chromium', async () => lab?.close());
    await artifacts.time('stop jupyter lab', async () => server?.stop());
    // After a pass only the screenshots are worth keeping; after a failure, everything.
    if (!broken) rmSync(path.join(artifacts.dir, 'server'), { recursive: true, force: true });
    console.log(`# UI test artifacts: ${artifacts.dir}\n# screenshots: ${artifacts.screenshots}\n# timings:\n${artifacts.summary()}`);
  });

  it('opens quickstart.ipynb with the HyperLab kernel and runs every cell', { timeout: 10 * MINUTE }, async (t) => {
    await step(t, 'open and run the notebook', async () => {
      const { plugins } = await artifacts.time('load JupyterLab', () => openLab(page, server!.labUrl('/lab?reset')));
      t.diagnostic(`@hyperlab plugins: ${plugins.join(', ') || 'none'}`);
      await artifacts.time('open notebook, start kernel', () => openNotebook(page, 'quickstart.ipynb', 3 * MINUTE));
      await collapseSidebar(page, 'left');

      // The kernel named in the notebook's metadata is the one in use.
      const kernel = await kernelInfo(page);
      assert.equal(kernel.name, 'hyperlab');
      assert.equal(kernel.displayName, 'TypeScript (HyperLab)');
      assert.equal(kernel.language, 'typescript');

      await clearAllOutputs(page);
      const cleared = await notebookState(page);
      assert.ok(cleared.cells.every((cell) => cell.outputTypes.length === 0 && cell.executionCount === null), 'outputs cleared before the run');

      const ran = await artifacts.time('run all cells', () => runAllAndWait(page, 8 * MINUTE, (done, total) => t.diagnostic(`executed ${done}/${total} code cells`)));
      const code = ran.cells.filter((cell) => cell.type === 'code');
      assert.deepEqual(code.filter((cell) => cell.error).map((cell) => `cell ${cell.index}: ${cell.error}`), [], 'no cell raised');
      assert.equal(ran.runAll?.value, true, 'notebook:run-all-cells reported success');
      const counts = code.map((cell) => cell.executionCount);
      assert.deepEqual(counts, code.map((_, i) => i + 1), 'every code cell ran once, in order, in a fresh kernel');
      assert.ok(code.every((cell) => cell.outputTypes.length > 0), 'every code cell has output');
      const runCells = code.filter((cell) => cell.mimeTypes.includes('application/vnd.hyperlab.run.v1+json'));
      assert.equal(runCells.length, 2, 'both %%adapter cells produced a run record');
      // Seeded, on the WASM backend: the runs made here are bit-identical to the committed ones.
      const made = Object.fromEntries((await runRecords(page)).map((record) => [record.name, record.contentHash]));
      assert.deepEqual(made, committedRecords(), 'the run records reproduce the committed ones (content hashes)');

      await scrollToCell(page, await findCell(page, '%%adapter --as lora'));
      await artifacts.screenshot(page, '01-notebook-run.png');
    });
  });

  it('draws the Plotly figure and the run cards', { timeout: 5 * MINUTE }, async (t) => {
    await step(t, 'Plotly figure', async () => {
      await requirePlugins(PLUGINS.renderers);
      const index = await findCell(page, 'display.plotly(');
      await scrollToCell(page, index);
      const cell = page.locator('.jp-Notebook .jp-Cell').nth(index);
      const figure = cell.locator('.hl-plotly .js-plotly-plot');
      await figure.waitFor({ state: 'visible', timeout: 2 * MINUTE });
      // Drawn, not just a div: an SVG line through the data, and one marker per point.
      const drawn = await pollUntil(
        'the Plotly trace to be drawn',
        async () => {
          const line = await figure.locator('.scatterlayer .trace path.js-line').first().getAttribute('d').catch(() => null);
          const points = await figure.locator('.scatterlayer .trace .points path.point').count();
          const box = await figure.locator('.main-svg').first().boundingBox();
          return { done: Boolean(line && /^M[\d.\-]+,[\d.\-]+L/.test(line)) && points === 7 && Boolean(box && box.width > 200 && box.height > 150), state: { line, points, box } };
        },
        MINUTE,
      );
      t.diagnostic(`line d=${drawn.line!.slice(0, 80)}…, ${drawn.points} points, ${drawn.box!.width}×${drawn.box!.height}`);
      assert.match(await figure.locator('.gtitle').first().textContent() ?? '', /LoRA parameters/);
      await cell.scrollIntoViewIfNeeded();
      await artifacts.screenshot(page, '02-plotly.png');

      // The %%adapter runs: a live figure with curves and a run card each.
      for (const name of ['base', 'lora']) {
        const runCell = page.locator('.jp-Notebook .jp-Cell').nth(await findCell(page, `%%adapter --as ${name}`));
        await runCell.scrollIntoViewIfNeeded();
        await runCell.locator('.hl-run-card').first().waitFor({ state: 'visible', timeout: MINUTE });
        const curve = await runCell.locator('.hl-plotly .scatterlayer .trace path.js-line').first().getAttribute('d', { timeout: MINUTE });
        assert.ok(curve && curve.length > 10, `the ${name} run's curves are drawn`);
      }
    });
  });

  it('writes a PNG snapshot of the settled figure into its output', { timeout: 2 * MINUTE }, async (t) => {
    await step(t, 'PNG snapshot', async () => {
      snapshot = await checkPngSnapshot(context(t));
    });
  });

  it("highlights a %%adapter cell's body as YAML (CodeMirror's tokens)", { timeout: 2 * MINUTE }, async (t) => {
    await step(t, 'YAML highlighting', async () => {
      await requirePlugins(PLUGINS.commands);
      await checkYamlHighlighting(context(t));
    });
  });

  it('opens the experiments panel and diffs two runs', { timeout: 5 * MINUTE }, async (t) => {
    await step(t, 'experiments panel', async () => {
      await requirePlugins(PLUGINS.panel);
      assert.ok(await hasCommand(page, 'hyperlab:open-experiments'), 'command hyperlab:open-experiments is registered');
      await executeCommand(page, 'hyperlab:open-experiments');
      const panel = page.locator('.hl-experiments');
      await panel.waitFor({ state: 'visible', timeout: MINUTE });
      // Room for the side-by-side diff.
      await resizeRightSidebar(page, 720);
      for (const name of ['base', 'lora']) {
        const row = panel.locator(`tr.hl-run-row[data-run="${name}"]`);
        await row.waitFor({ state: 'visible', timeout: MINUTE });
        await row.locator('input.hl-run-select').check();
      }
      await panel.locator('.hl-overlay').first().waitFor({ state: 'visible', timeout: MINUTE });
      const diff = panel.locator('.hl-config-diff .monaco-diff-editor');
      await diff.waitFor({ state: 'visible', timeout: MINUTE });
      const text = await pollUntil(
        'both configs in the Monaco diff',
        async () => {
          const raw = (await diff.textContent()) ?? '';
          const text = raw.replace(/\u00a0/g, ' ');
          return { done: /method\W+full/.test(text) && /method\W+lora/.test(text), state: text.slice(0, 2000) };
        },
        MINUTE,
      );
      t.diagnostic(`diff text: ${text.slice(0, 200).replace(/\s+/g, ' ')}…`);
      await diff.scrollIntoViewIfNeeded();
      await artifacts.screenshot(page, '03-experiments-diff.png');
    });
  });

  it('verifies that the runs reproduce', { timeout: 15 * MINUTE }, async (t) => {
    await step(t, 'verify reproducibility', async () => {
      await requirePlugins(PLUGINS.verify);
      assert.ok(await hasCommand(page, 'hyperlab:verify'), 'command hyperlab:verify is registered');
      // The command acts on the notebook when it is the shell's current widget.
      await collapseSidebar(page, 'right');
      await activateNotebook(page);
      await page.evaluate(() => {
        const w = window as unknown as import('./lab').LabWindow;
        void w.jupyterapp.commands.execute('hyperlab:verify').catch((error: unknown) => console.error('hyperlab:verify failed', error));
      });
      const result = page.locator('.hl-verify-result[data-ok]').first();
      await result.waitFor({ state: 'attached', timeout: 12 * MINUTE });
      const rows = await result.locator('tr.hl-verify-row').evaluateAll((rows) => rows.map((row) => ({ run: row.getAttribute('data-run'), status: row.getAttribute('data-status') })));
      t.diagnostic(`verify rows: ${JSON.stringify(rows)}`);
      assert.equal(await result.getAttribute('data-ok'), 'true', `verification passed: ${JSON.stringify(rows)}`);
      assert.deepEqual(rows.map((row) => row.run).sort(), ['base', 'lora']);
      await result.scrollIntoViewIfNeeded();
      await artifacts.screenshot(page, '04-verify.png');
    });
  });

  it('keeps the PNG snapshot after save and reopen', { timeout: 3 * MINUTE }, async (t) => {
    await step(t, 'PNG after save and reopen', () => checkPngAfterReopen(context(t), snapshot!, path.basename(NOTEBOOK)));
  });

  it('runs a notebook of every kind: the continual heatmap and the compression in run cards', { timeout: 6 * MINUTE }, async (t) => {
    await step(t, 'kinds: run and run cards', async () => {
      await runKindsNotebook(context(t));
      await checkRunCards(context(t));
    });
  });

  it("shows every kind in the panel: ACC/BWT and compression columns, a sweep's trials grouped, marked and sorted", { timeout: 3 * MINUTE }, async (t) => {
    await step(t, 'kinds: experiments panel', () => checkPanelKinds(context(t)));
  });

  it('exports the report from the command palette', { timeout: 3 * MINUTE }, async (t) => {
    await step(t, 'kinds: export report', () => exportReportFromPalette(context(t)));
  });

  it("verifies every kind from the command palette and lists a sweep's outcome differences", { timeout: 6 * MINUTE }, async (t) => {
    await step(t, 'kinds: verify', () => verifyKindsFromPalette(context(t)));
  });

  it('inserts experiment templates from the command palette', { timeout: 3 * MINUTE }, async (t) => {
    await step(t, 'kinds: insert templates', () => insertTemplatesFromPalette(context(t)));
  });

  it('fetched nothing from outside the lab server', async (t) => {
    await step(t, 'no outside requests', async () => {
      assert.deepEqual(lab!.blocked, []);
    });
  });
});
