/**
 * The UI test's steps on the notebook of every experiment kind ({@link KINDS_NOTEBOOK}): run it,
 * the run cards (a continual run's heatmap, a hypernetwork's compression), the experiments panel
 * (ACC/BWT and compression columns, the sweep's trials grouped under it with the best marked,
 * sorting, the detail's heatmap and sortable trials table), Export Report and Verify
 * Reproducibility from the command palette, and Insert Experiment Template from it.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import type { Artifacts } from './artifacts';
import { editorTokens } from './editor';
import { kernelTemplates } from './kernel-templates';
import { KINDS_CELLS, KINDS_NOTEBOOK } from './kinds-notebook';
import { activateNotebook, collapseSidebar, executeCommand, findCell, openNotebook, pollUntil, resizeRightSidebar, runAllAndWait, scrollToCell, type LabWindow } from './lab';
import { closeNotebook, editStoredRecord } from './outputs';
import { chooseDialogItem, runFromPalette } from './palette';
import type { LabServer } from './server';

const MINUTE = 60_000;

/** What every step gets. */
export interface StepContext {
  page: Page;
  server: LabServer;
  artifacts: Artifacts;
  t: TestContext;
}

/** The sweep's trials as the stored record has them: id → objective value, and the best. */
async function sweepOutcome(page: Page): Promise<{ values: Record<string, number>; params: Record<string, Record<string, number>>; best: string }> {
  return page.evaluate(() => {
    const panel = (window as unknown as LabWindow).__hl!.notebook!;
    for (const cell of panel.content.widgets) {
      const outputs = cell.model.outputs;
      for (let i = 0; outputs && i < outputs.length; i++) {
        const record = outputs.get(i).data['application/vnd.hyperlab.run.v1+json'] as { outcome?: { trials: Array<{ trialId: string; value: number; params: Record<string, number> }>; best: { trialId: string } } } | undefined;
        if (record?.outcome) {
          const trials = record.outcome.trials;
          return { values: Object.fromEntries(trials.map((t) => [t.trialId, t.value])), params: Object.fromEntries(trials.map((t) => [t.trialId, t.params])), best: record.outcome.best.trialId };
        }
      }
    }
    throw new Error('no sweep record in the notebook');
  });
}

/** Trial ids in table order, from rows with `data-trial`. */
const trialOrder = (page: Page, selector: string): Promise<string[]> => page.locator(selector).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trial') ?? ''));

/** Ids sorted by a number (ties in id order). */
const sortedIds = (values: Record<string, number>, direction: 1 | -1): string[] => Object.keys(values).sort((a, b) => direction * (values[a] - values[b]) || (a < b ? -1 : 1));

/** Closes the notebook before (and its kernel), opens the notebook of every kind and runs it: three records, cl, hn, sw. */
export async function runKindsNotebook({ page, artifacts, t }: StepContext): Promise<void> {
  await closeNotebook(page);
  await artifacts.time('open kinds notebook, start kernel', () => openNotebook(page, KINDS_NOTEBOOK, 3 * MINUTE));
  const ran = await artifacts.time('run the kinds notebook', () => runAllAndWait(page, 5 * MINUTE, (done, total) => t.diagnostic(`kinds: executed ${done}/${total} code cells`)));
  const code = ran.cells.filter((cell) => cell.type === 'code');
  assert.deepEqual(code.filter((cell) => cell.error).map((cell) => `cell ${cell.index}: ${cell.error}`), [], 'no cell raised');
  assert.equal(code.length, KINDS_CELLS.length);
  assert.deepEqual(code.map((cell) => cell.mimeTypes.includes('application/vnd.hyperlab.run.v1+json')), [false, true, true, true], 'a run record per experiment cell');
}

/** The continual run's card draws R as a heatmap; the hypernetwork's card states its compression. */
export async function checkRunCards({ page, artifacts }: StepContext): Promise<void> {
  const clCell = page.locator('.jp-Notebook .jp-Cell').nth(await findCell(page, '%%continual --as cl'));
  await scrollToCell(page, await findCell(page, '%%continual --as cl'));
  const card = clCell.locator('.hl-run-card[data-kind="continual"]');
  await card.waitFor({ state: 'visible', timeout: MINUTE });
  assert.match((await card.locator('.hl-run-kind').textContent()) ?? '', /^ACC \d+\.\d\d % · BWT −?\d+\.\d\d % · FWT −?\d+\.\d\d % · forgetting −?\d+\.\d\d %$/);
  const heatmap = card.locator('.hl-run-matrix .hl-matrix[data-size="5x5"]');
  await heatmap.locator('.heatmaplayer image').first().waitFor({ state: 'attached', timeout: MINUTE });
  const cells = await heatmap.locator('.heatmaplayer text').allTextContents();
  assert.equal(cells.length, 25, `every R[i][j] is written in its cell: ${cells.join(' ')}`);
  assert.ok(cells.every((c) => /^[01]\.\d\d$/.test(c)));
  await heatmap.scrollIntoViewIfNeeded();
  await artifacts.screenshot(page, '06-continual-card.png');
  // The live heatmap (Plotly, the x axis on top): its title sits above the axis title and labels.
  const live = clCell.locator('.js-plotly-plot:not(.hl-run-card *)').filter({ has: page.locator('.heatmaplayer') }).first();
  await live.locator('.heatmaplayer image').first().waitFor({ state: 'attached', timeout: MINUTE });
  const box = async (selector: string) => (await live.locator(selector).first().boundingBox())!;
  const [title, axisTitle, tick] = [await box('.gtitle'), await box('.g-xtitle'), await box('.xtick text')];
  assert.ok(title.y + title.height <= axisTitle.y, `the heatmap's title (${JSON.stringify(title)}) overlaps its x axis title (${JSON.stringify(axisTitle)})`);
  assert.ok(axisTitle.y + axisTitle.height <= tick.y, `the x axis title (${JSON.stringify(axisTitle)}) overlaps its labels (${JSON.stringify(tick)})`);

  const hnCell = page.locator('.jp-Notebook .jp-Cell').nth(await findCell(page, '%%hypernet --as hn'));
  await hnCell.scrollIntoViewIfNeeded();
  const hn = hnCell.locator('.hl-run-card[data-kind="hypernet"] .hl-run-kind');
  assert.match((await hn.textContent({ timeout: MINUTE })) ?? '', /compression 0\.\d+ \([\d,]+ hypernetwork \/ [\d,]+ target parameters\)/);
}

/**
 * The panel with every kind: kind column, ACC/BWT and compression columns, the sweep expanding to
 * its trials with the best marked and sorted within it, the detail's heatmap and trials table.
 */
export async function checkPanelKinds({ page, artifacts, t }: StepContext): Promise<void> {
  await executeCommand(page, 'hyperlab:open-experiments');
  const panel = page.locator('.hl-experiments');
  await panel.waitFor({ state: 'visible', timeout: MINUTE });
  await resizeRightSidebar(page, 760).catch(() => undefined);
  const row = (name: string) => panel.locator(`tr.hl-run-row:not(.hl-trial-row)[data-run="${name}"]`);
  await row('sw').waitFor({ state: 'visible', timeout: MINUTE });
  for (const [name, kind] of [['cl', 'continual'], ['hn', 'hypernet'], ['sw', 'sweep']]) assert.equal(await row(name).getAttribute('data-kind'), kind);
  const header = (id: string) => panel.locator(`table.hl-runs-table th[data-column="${id}"]`);
  assert.equal(await header('metric:acc').textContent(), 'ACC');
  assert.equal(await header('metric:bwt').textContent(), 'BWT');
  assert.equal(await header('metric:compressionRatio').textContent(), 'compression');
  assert.equal(await panel.locator('th[data-column*="eval_phase"], th[data-column^="metric:best/"]').count(), 0, 'alias metrics are not columns');
  const columnIndex = async (id: string) => (await panel.locator('table.hl-runs-table thead th').evaluateAll((ths, id) => ths.findIndex((th) => th.getAttribute('data-column') === id), id));
  const compression = await row('hn').locator('td').nth(await columnIndex('metric:compressionRatio')).textContent();
  assert.match(compression ?? '', /^0\.\d{1,4}$/, 'the hypernetwork has a compression ratio');
  assert.equal(await row('cl').locator('td').nth(await columnIndex('metric:compressionRatio')).textContent(), '');

  // The sweep: collapsed, then its trials under it, the best marked.
  const { values, params, best } = await sweepOutcome(page);
  const trialRows = 'tr.hl-trial-row[data-sweep="sw"]';
  assert.equal(await panel.locator(trialRows).count(), 0, 'collapsed at first');
  const expander = row('sw').locator('button.hl-expand');
  assert.equal(await expander.getAttribute('aria-expanded'), 'false');
  await expander.click();
  await panel.locator(trialRows).first().waitFor({ state: 'visible', timeout: MINUTE });
  assert.deepEqual(await trialOrder(page, `.hl-experiments ${trialRows}`), Object.keys(values).sort(), 'trials in id order under their sweep');
  assert.deepEqual(await panel.locator(`${trialRows}[data-best]`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trial'))), [best]);
  assert.equal(await panel.locator(`${trialRows}[data-best] .hl-best`).textContent(), '★');
  // Sorting the table by accuracy sorts the trials within their sweep.
  await header('metric:accuracy').click();
  await header('metric:accuracy').click();
  assert.equal(await header('metric:accuracy').getAttribute('aria-sort'), 'descending');
  assert.deepEqual(await trialOrder(page, `.hl-experiments ${trialRows}`), sortedIds(values, -1), 'trials best first');
  const order = await panel.locator('table.hl-runs-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trial') ?? r.getAttribute('data-run')));
  assert.ok(order.indexOf('sw') < order.indexOf(best) && order.indexOf(best) <= order.indexOf('sw') + 4, `the trials follow their sweep: ${order.join(', ')}`);

  // The detail: select the continual run and the sweep.
  await row('cl').locator('input.hl-run-select').check();
  await row('sw').locator('input.hl-run-select').check();
  const clDetail = panel.locator('.hl-detail[data-run="cl"][data-kind="continual"]');
  await clDetail.locator('.hl-matrix[data-size="5x5"] .heatmaplayer image').first().waitFor({ state: 'attached', timeout: MINUTE });
  const table = panel.locator('.hl-detail[data-run="sw"][data-kind="sweep"] table.hl-trials-table[data-sweep="sw"]');
  await table.waitFor({ state: 'visible', timeout: MINUTE });
  const detailRows = '.hl-experiments table.hl-trials-table[data-sweep="sw"] tbody tr.hl-trial';
  assert.deepEqual(await trialOrder(page, detailRows), sortedIds(values, -1), 'best first, as the magic prints it');
  assert.equal(await table.locator('tr.hl-trial[data-best] .hl-best').count(), 1);
  assert.equal(await table.locator('tr.hl-trial').first().getAttribute('data-trial'), best);
  // Click a parameter's header: ascending, then descending (ties in trial order).
  const width = 'param:model.mlp[1]';
  const byWidth = Object.fromEntries(Object.entries(params).map(([id, p]) => [id, p['model.mlp[1]']]));
  await table.locator(`th[data-column="${width}"]`).click();
  assert.equal(await table.locator(`th[data-column="${width}"]`).getAttribute('aria-sort'), 'ascending');
  assert.deepEqual(await trialOrder(page, detailRows), sortedIds(byWidth, 1));
  await table.locator(`th[data-column="${width}"]`).click();
  assert.equal(await table.locator(`th[data-column="${width}"]`).getAttribute('aria-sort'), 'descending');
  assert.deepEqual(await trialOrder(page, detailRows), sortedIds(byWidth, -1));
  await table.locator('th[data-column="value"]').click();
  assert.deepEqual(await trialOrder(page, detailRows), sortedIds(values, 1), 'by the objective, worst first');
  await table.locator('th[data-column="value"]').click();
  t.diagnostic(`sweep trials (best ${best}): ${JSON.stringify(values)}`);
  await row('cl').locator('input.hl-run-select').uncheck();
  await table.scrollIntoViewIfNeeded();
  await panel.locator('table.hl-runs-table').scrollIntoViewIfNeeded();
  await artifacts.screenshot(page, '05-sweep-panel.png');
  await row('sw').locator('input.hl-run-select').uncheck();
  await collapseSidebar(page, 'right');
}

/** Export Report from the palette: the HTML beside the notebook holds a card per run and the sweep's table. */
export async function exportReportFromPalette({ page, server }: StepContext): Promise<void> {
  await activateNotebook(page);
  const html = KINDS_NOTEBOOK.replace(/\.ipynb$/, '.html');
  assert.equal((await server.api(`/api/contents/${html}?content=0`)).status, 404, 'no report before');
  await runFromPalette(page, 'Export Report');
  const text = await pollUntil(
    `${html} on the server`,
    async () => {
      const response = await server.api(`/files/${html}`);
      return { done: response.status === 200, state: response.status === 200 ? await response.text() : `HTTP ${response.status}` };
    },
    2 * MINUTE,
    500,
  );
  await page.locator('.Toastify__toast', { hasText: `Report written: ${html}` }).first().waitFor({ state: 'visible', timeout: 30_000 });
  assert.match(text, /^<!DOCTYPE html>/i);
  assert.deepEqual([...text.matchAll(/<span class="run-title">Run: (\w+)<\/span>/g)].map((m) => m[1]), ['cl', 'hn', 'sw'], 'a run card per record');
  assert.equal((text.match(/<details class="run" id="run-\d+">/g) ?? []).length, 3);
  assert.match(text, /<table class="hyperlab-sweep-table" data-sweep="sw">/, "the sweep's trials table");
}

/**
 * Verify from the palette with every kind, after the stored sweep record was edited by hand (a
 * trial's value and the content hash): the continual and hypernetwork runs match by hash, the
 * sweep drifts and its outcome difference is listed at its JSON Pointer.
 */
export async function verifyKindsFromPalette({ page, artifacts, t }: StepContext): Promise<void> {
  const { values } = await sweepOutcome(page);
  const edited = await editStoredRecord(page, await findCell(page, '%%sweep --as sw'), [
    ['/outcome/trials/0/value', values.t000 + 0.125],
    ['/contentHash', '0'.repeat(64)],
  ]);
  assert.equal(edited, 'sw');
  await activateNotebook(page);
  await runFromPalette(page, 'Verify Reproducibility');
  const result = page.locator('.hl-verify-result[data-ok]', { has: page.locator('.hl-verify-title', { hasText: KINDS_NOTEBOOK }) });
  await result.waitFor({ state: 'attached', timeout: 5 * MINUTE });
  const rows = await result.locator('tr.hl-verify-row').evaluateAll((rows) => rows.map((row) => [row.getAttribute('data-run'), row.getAttribute('data-kind'), row.getAttribute('data-status'), row.getAttribute('data-match')]));
  t.diagnostic(`kinds verify rows: ${JSON.stringify(rows)}`);
  assert.deepEqual(rows, [
    ['cl', 'continual', 'matched', 'hash'],
    ['hn', 'hypernet', 'matched', 'hash'],
    ['sw', 'sweep', 'drifted', null],
  ]);
  assert.equal(await result.getAttribute('data-ok'), 'false');
  const sw = result.locator('tr.hl-verify-row[data-run="sw"]');
  assert.match((await sw.locator('.hl-verify-detail').textContent()) ?? '', /outcome differs at 1 path \(first \/outcome\/trials\/0\/value: /);
  await sw.locator('.hl-verify-diffs > summary').click();
  const item = sw.locator('.hl-verify-diffs li[data-path="/outcome/trials/0/value"]');
  await item.waitFor({ state: 'visible', timeout: 30_000 });
  const fresh = String(Number(values.t000.toPrecision(6)));
  assert.equal(await item.textContent(), `/outcome/trials/0/value: ${Number((values.t000 + 0.125).toPrecision(6))} → ${fresh}`);
  await result.scrollIntoViewIfNeeded();
  await artifacts.screenshot(page, '07-verify-sweep.png');
  await page.evaluate(() => {
    const w = window as unknown as LabWindow;
    w.jupyterapp.shell.activateById(w.__hl!.notebook!.id);
  });
}

/**
 * Insert Experiment Template from the palette, twice: a `%%sweep` and the `%%adapter` DoRA
 * variant, each the kernel's own template under a fresh `--as` name, below the active cell; the
 * inserted `%%adapter` cell is highlighted as YAML.
 */
export async function insertTemplatesFromPalette({ page }: StepContext): Promise<void> {
  const templates = await kernelTemplates(page);
  const sweep = templates.find((m) => m.name === 'sweep');
  const dora = templates.find((m) => m.name === 'adapter')?.variants.find((v) => v.key === 'dora');
  assert.ok(sweep && dora, `the kernel offers %%sweep and %%adapter · dora: ${templates.map((m) => m.name).join(', ')}`);
  const body = (template: string) => template.replace(/\n+$/, '');
  const cases = [
    { prefix: '%%sweep — ', text: `%%sweep --as sweep1\n${body(sweep.template)}` },
    { prefix: '%%adapter · dora — ', text: `%%adapter --as dora1\n${body(dora.template)}` },
  ];
  for (const { prefix, text } of cases) {
    const before = await page.evaluate(() => (window as unknown as LabWindow).__hl!.notebook!.content.widgets.length);
    await page.evaluate(() => {
      const panel = (window as unknown as LabWindow).__hl!.notebook! as unknown as { content: { activeCellIndex: number; widgets: unknown[] } };
      panel.content.activeCellIndex = panel.content.widgets.length - 1;
    });
    await activateNotebook(page);
    await runFromPalette(page, 'Insert Experiment Template');
    const label = await chooseDialogItem(page, prefix);
    const inserted = await pollUntil(
      `the ${label} cell`,
      () =>
        page.evaluate((before) => {
          const panel = (window as unknown as LabWindow).__hl!.notebook! as unknown as { content: { activeCellIndex: number; widgets: Array<{ model: { sharedModel: { getSource(): string } } }> } };
          const { widgets, activeCellIndex } = panel.content;
          return { done: widgets.length === before + 1, state: { count: widgets.length, active: activeCellIndex, source: widgets[activeCellIndex].model.sharedModel.getSource() } };
        }, before),
      30_000,
    );
    assert.equal(inserted.active, before, 'inserted below the last cell, and made active');
    assert.equal(inserted.source, text);
  }
  assert.match(cases[0].text, /\nspace: /);
  assert.match(cases[1].text, /\n {2}method: dora\b/);
  const index = await findCell(page, '%%adapter --as dora1');
  const tokens = await pollUntil(
    'the inserted cell drawn with YAML tokens',
    async () => {
      const tokens = await editorTokens(page, index);
      return { done: tokens.mimeType === 'text/x-yaml' && tokens.tokens.some((token) => token.text.trim() === 'method'), state: tokens };
    },
    30_000,
  );
  const method = tokens.tokens.find((token) => token.text.trim() === 'method');
  assert.ok(method && method.color === tokens.palette.atom, `its keys are YAML keys: ${JSON.stringify(method)}`);
}
