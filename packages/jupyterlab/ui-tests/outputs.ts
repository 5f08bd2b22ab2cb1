/**
 * Outputs of the notebook under test as the page's models hold them: the PNG snapshot the Plotly
 * renderer writes back into a figure's output, a stored run record edited in place, and a
 * notebook saved, closed and opened again, or closed for good.
 */
import type { Page } from 'playwright-core';
import { openNotebook } from './lab';

/** The part of an output model read and written here. */
interface PageOutput {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  toJSON(): Record<string, unknown>;
}
interface PageOutputs {
  length: number;
  get(index: number): PageOutput;
  set(index: number, value: Record<string, unknown>): void;
}
interface PagePanel {
  context: { save(): Promise<void>; model: { dirty: boolean } };
  sessionContext: { shutdown(): Promise<void> };
  content: { widgets: ReadonlyArray<{ model: { outputs?: PageOutputs } }> };
  close(): void;
  isDisposed: boolean;
}
/** (Functions given to `page.evaluate` run in the page: they spell this out instead of calling a helper.) */
type InPage = { __hl: { notebook: unknown } };

/** The Plotly output of a cell: whether it carries a PNG and the hash of the figure it shows. */
export interface PlotlySnapshot {
  /** The PNG (base64), if any. */
  png?: string;
  /** `hyperlab/snapshot-of`: the hash of the figure the PNG was taken from. */
  snapshotOf?: string;
  /** `metadata['image/png']`: the PNG's size. */
  size?: { width: number; height: number };
}

/** The first Plotly output of cell `cellIndex` (throws when it has none). */
export function plotlySnapshot(page: Page, cellIndex: number): Promise<PlotlySnapshot> {
  return page.evaluate((cellIndex) => {
    const outputs = ((window as unknown as InPage).__hl.notebook as PagePanel).content.widgets[cellIndex].model.outputs;
    for (let i = 0; outputs && i < outputs.length; i++) {
      const output = outputs.get(i);
      if (!output.data['application/vnd.plotly.v1+json']) continue;
      const png = output.data['image/png'];
      return { png: typeof png === 'string' ? png : undefined, snapshotOf: output.metadata['hyperlab/snapshot-of'] as string | undefined, size: output.metadata['image/png'] as PlotlySnapshot['size'] };
    }
    throw new Error(`cell ${cellIndex} has no Plotly output`);
  }, cellIndex);
}

/** A PNG's width and height from its IHDR chunk (throws when the bytes are not a PNG). */
export function pngSize(base64: string): { width: number; height: number } {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || bytes.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/**
 * Edits the first run record in cell `cellIndex`'s outputs, as a hand edit of the saved notebook
 * would: each change sets the value at a JSON Pointer into the record (`/outcome/trials/0/value`).
 * Returns the record's name.
 */
export function editStoredRecord(page: Page, cellIndex: number, changes: Array<[pointer: string, value: unknown]>): Promise<string> {
  return page.evaluate(
    ([cellIndex, changes]) => {
      const outputs = ((window as unknown as InPage).__hl.notebook as PagePanel).content.widgets[cellIndex].model.outputs!;
      for (let i = 0; i < outputs.length; i++) {
        const json = outputs.get(i).toJSON() as { data?: Record<string, unknown> };
        const record = json.data?.['application/vnd.hyperlab.run.v1+json'] as { name: string } | undefined;
        if (!record) continue;
        const copy = JSON.parse(JSON.stringify(record)) as { name: string };
        for (const [pointer, value] of changes) {
          const keys = pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
          const last = keys.pop()!;
          const parent = keys.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy as unknown as Record<string, unknown>);
          parent[last] = value;
        }
        outputs.set(i, { ...json, data: { ...json.data, 'application/vnd.hyperlab.run.v1+json': copy } });
        return copy.name;
      }
      throw new Error(`cell ${cellIndex} has no run record`);
    },
    [cellIndex, changes] as const,
  );
}

/** Saves the notebook under test, closes it, and opens it again from the server (the same kernel session). */
export async function saveCloseReopen(page: Page, notebookPath: string, timeoutMs: number): Promise<void> {
  await page.evaluate(async () => {
    const panel = ((window as unknown as InPage).__hl.notebook as PagePanel);
    await panel.context.save();
    if (panel.context.model.dirty) throw new Error('the notebook is still dirty after saving');
    panel.close();
  });
  await page.waitForFunction(() => ((window as unknown as InPage).__hl.notebook as PagePanel).isDisposed, undefined, { timeout: 30_000, polling: 100 });
  await openNotebook(page, notebookPath, timeoutMs);
}

/**
 * Shuts the kernel of the notebook under test down, saves and closes it (so the next one is the
 * only notebook in the page). Saved after the shutdown, which may update the notebook's metadata.
 */
export async function closeNotebook(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const panel = (window as unknown as InPage).__hl.notebook as PagePanel;
    await panel.sessionContext.shutdown();
    await panel.context.save();
    panel.close();
  });
  await page.waitForFunction(() => ((window as unknown as InPage).__hl.notebook as PagePanel).isDisposed, undefined, { timeout: 30_000, polling: 100 });
}
