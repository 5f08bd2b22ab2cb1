/**
 * The UI test's steps on quickstart.ipynb beyond running it: the PNG snapshot the Plotly renderer
 * writes into the figure's output, there again after save and reopen (and in the file on the
 * server), and the YAML highlighting of its `%%adapter` cells.
 */
import assert from 'node:assert/strict';
import { editorTokens } from './editor';
import type { StepContext } from './kinds-steps';
import { findCell, pollUntil } from './lab';
import { plotlySnapshot, pngSize, saveCloseReopen, type PlotlySnapshot } from './outputs';

const MINUTE = 60_000;
const PLOTLY_CELL = 'display.plotly(';

/** Checks a snapshot: a real PNG of the size its metadata says, tagged with the figure's hash. */
function assertSnapshot(snapshot: PlotlySnapshot): { width: number; height: number } {
  assert.ok(snapshot.png, 'the output carries image/png');
  const size = pngSize(snapshot.png);
  assert.deepEqual(size, snapshot.size, "the PNG's size is in the output's metadata");
  assert.ok(size.width >= 320 && size.height >= 200, `a figure-sized PNG: ${size.width}×${size.height}`);
  assert.match(snapshot.snapshotOf ?? '', /^[0-9a-f]{8}$/, 'tagged with the hash of the figure it shows');
  return size;
}

/** Once the figure has settled, its output holds a PNG snapshot of it. */
export async function checkPngSnapshot({ page, t }: StepContext): Promise<PlotlySnapshot> {
  const index = await findCell(page, PLOTLY_CELL);
  const snapshot = await pollUntil(
    'the PNG snapshot in the Plotly output',
    async () => {
      const s = await plotlySnapshot(page, index);
      return { done: Boolean(s.png && s.snapshotOf), state: s };
    },
    MINUTE,
    500,
  );
  const size = assertSnapshot(snapshot);
  t.diagnostic(`snapshot ${size.width}×${size.height}, ${snapshot.png!.length} base64 chars, figure ${snapshot.snapshotOf}`);
  return snapshot;
}

/** Saved, closed and reopened: the same PNG in the output and in the file the server holds. */
export async function checkPngAfterReopen({ page, server }: StepContext, before: PlotlySnapshot, notebook: string): Promise<void> {
  await saveCloseReopen(page, notebook, 2 * MINUTE);
  const index = await findCell(page, PLOTLY_CELL);
  const reopened = await plotlySnapshot(page, index);
  assertSnapshot(reopened);
  assert.equal(reopened.png, before.png, 'the same PNG after reopening');
  assert.equal(reopened.snapshotOf, before.snapshotOf);
  const file = (await (await server.api(`/api/contents/${notebook}?type=notebook&content=1`)).json()) as { content: { cells: Array<{ source: string; outputs?: Array<{ data?: Record<string, unknown>; metadata?: Record<string, unknown> }> }> } };
  const cell = file.content.cells.find((c) => c.source.includes(PLOTLY_CELL))!;
  const output = cell.outputs!.find((o) => o.data?.['application/vnd.plotly.v1+json'])!;
  assert.equal(output.data!['image/png'], before.png, 'the saved file holds the PNG beside the figure');
  assert.equal(output.metadata!['hyperlab/snapshot-of'], before.snapshotOf);
  // The renderer draws the figure again and writes nothing new (the snapshot is of this figure).
  await page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.hl-plotly .js-plotly-plot').waitFor({ state: 'visible', timeout: MINUTE });
  const dirty = await page.evaluate(() => (window as unknown as import('./lab').LabWindow).__hl!.notebook!.context.model.dirty);
  assert.equal(dirty, false, 'reopening leaves the notebook unchanged');
}

/**
 * A `%%adapter` cell is edited as YAML: its editor's MIME type is `text/x-yaml` and CodeMirror's
 * YAML tokens colour its keys as atoms and its numbers as numbers, while the keys of a TypeScript
 * cell are not atoms.
 */
export async function checkYamlHighlighting({ page, t }: StepContext): Promise<void> {
  const yaml = await editorTokens(page, await findCell(page, '%%adapter --as lora'));
  assert.equal(yaml.mimeType, 'text/x-yaml');
  const token = (text: string) => yaml.tokens.find((tok) => tok.text.trim() === text);
  const keys = ['model', 'data', 'dataset', 'adapter', 'method', 'r', 'loraAlpha', 'train', 'epochs', 'lr'].map((k) => [k, token(k)] as const);
  t.diagnostic(`YAML tokens: ${JSON.stringify(yaml.tokens.slice(0, 12))}; palette ${JSON.stringify(yaml.palette)}`);
  for (const [key, tok] of keys) {
    assert.ok(tok, `the key ${key} is a token`);
    assert.equal(tok.color, yaml.palette.atom, `${key} has the atom colour`);
    assert.deepEqual(tok.classes, keys[0][1]!.classes, `${key} has the same token class as model`);
  }
  assert.ok(keys[0][1]!.classes.length > 0, 'keys carry a CodeMirror highlight class');
  const eight = token('8');
  assert.ok(eight && eight.color === yaml.palette.number && eight.color !== yaml.palette.atom, `r: 8 is a number: ${JSON.stringify(eight)}`);
  const ts = await editorTokens(page, await findCell(page, 'interface Layer'));
  assert.notEqual(ts.mimeType, 'text/x-yaml', 'a TypeScript cell keeps the notebook language');
  assert.ok(!ts.tokens.some((tok) => tok.text === 'name' && tok.color === ts.palette.atom), 'a TypeScript property is not a YAML key');
}
