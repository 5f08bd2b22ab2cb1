/**
 * Driving JupyterLab through `window.jupyterapp` (the server runs with
 * `--LabApp.expose_app_in_browser=True`): waiting for the app, opening a notebook, running it and
 * waiting until every code cell has run. The functions passed to `page.evaluate` run in the page,
 * so they only use what they are given and `window`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';

/**
 * Polls `probe` until it reports `done`, or throws with the last state it reported (at once when it
 * reports `fatal`: waiting longer cannot help).
 */
export async function pollUntil<T>(label: string, probe: () => Promise<{ done: boolean; state: T; fatal?: string }>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { done: boolean; state: T; fatal?: string } | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last.done) return last.state;
    } catch (error) {
      lastError = error;
    }
    if (last?.fatal) throw new Error(`while waiting for ${label}: ${last.fatal}; state: ${JSON.stringify(last.state, null, 2)}`);
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const detail = last ? JSON.stringify(last.state, null, 2) : String(lastError);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}; last state: ${detail}`);
}

/** The slice of JupyterLab's API the tests use, as seen from the page. */
interface PageCell {
  model: {
    type: string;
    executionCount?: number | null;
    sharedModel: { getSource(): string };
    outputs?: { length: number; get(index: number): { type: string; data: Record<string, unknown> }; toJSON(): unknown[] };
  };
  node: HTMLElement;
  promptNode?: HTMLElement | null;
}
interface PageNotebookPanel {
  id: string;
  context: { ready: Promise<void>; path: string; model: { dirty: boolean } };
  sessionContext: {
    ready: Promise<void>;
    kernelDisplayName: string;
    session: { kernel: { name: string; status: string; info: Promise<{ implementation: string; language_info: { name: string } }> } | null } | null;
  };
  content: { widgets: readonly PageCell[]; scrollToItem(index: number, align?: string): Promise<void> };
}
interface PageApp {
  restored: Promise<void>;
  started: Promise<void>;
  commands: { execute(id: string, args?: unknown): Promise<unknown>; hasCommand(id: string): boolean };
  shell: { currentWidget: unknown; activateById(id: string): void };
  hasPlugin(id: string): boolean;
  isPluginActivated(id: string): boolean;
  listPlugins(): string[];
}
/** What the page's window holds. */
export type LabWindow = Window & {
  jupyterapp: PageApp;
  __hl?: { notebook?: PageNotebookPanel; runAll?: { settled: boolean; value?: unknown; error?: string } };
};

/** Loads JupyterLab (with a reset workspace) and waits until it has restored its layout. */
export async function openLab(page: Page, url: string, timeoutMs = 120_000): Promise<{ plugins: string[] }> {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  await page.waitForFunction(() => Boolean((window as unknown as LabWindow).jupyterapp), undefined, { timeout: timeoutMs, polling: 250 });
  return page.evaluate(async () => {
    const app = (window as unknown as LabWindow).jupyterapp;
    await app.started;
    await app.restored;
    return { plugins: app.listPlugins().filter((id) => id.startsWith('@hyperlab/')) };
  });
}

/** Whether each given plugin is registered and activated (false for missing ones). */
export function pluginsActive(page: Page, ids: string[]): Promise<Record<string, boolean>> {
  return page.evaluate((ids) => {
    const app = (window as unknown as LabWindow).jupyterapp;
    return Object.fromEntries(ids.map((id) => [id, app.hasPlugin(id) && app.isPluginActivated(id)]));
  }, ids);
}

/** Whether a command is registered. */
export function hasCommand(page: Page, id: string): Promise<boolean> {
  return page.evaluate((id) => (window as unknown as LabWindow).jupyterapp.commands.hasCommand(id), id);
}

export interface KernelInfo {
  name: string;
  displayName: string;
  status: string;
  implementation: string;
  language: string;
}

/**
 * Opens a notebook (path relative to the server root) in the Notebook editor, waits for its model
 * and its kernel session, and remembers it as the notebook under test.
 */
export async function openNotebook(page: Page, notebookPath: string, timeoutMs = 120_000): Promise<void> {
  await page.evaluate(async (notebookPath) => {
    const w = window as unknown as LabWindow;
    const panel = (await w.jupyterapp.commands.execute('docmanager:open', { path: notebookPath, factory: 'Notebook' })) as PageNotebookPanel;
    await panel.context.ready;
    w.__hl = { ...(w.__hl ?? {}), notebook: panel };
  }, notebookPath);
  await waitForKernelIdle(page, timeoutMs);
}

/** The notebook's kernel as the page sees it (throws when no kernel is attached yet). */
export function kernelInfo(page: Page): Promise<KernelInfo> {
  return page.evaluate(async () => {
    const panel = (window as unknown as LabWindow).__hl!.notebook!;
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session?.kernel;
    if (!kernel) throw new Error('the notebook has no kernel');
    const info = await kernel.info;
    return { name: kernel.name, displayName: panel.sessionContext.kernelDisplayName, status: kernel.status, implementation: info.implementation, language: info.language_info.name };
  });
}

/** Waits until the notebook's kernel has started and is idle. */
export async function waitForKernelIdle(page: Page, timeoutMs: number): Promise<void> {
  await pollUntil(
    'the kernel to be idle',
    () =>
      page.evaluate(() => {
        const panel = (window as unknown as LabWindow).__hl?.notebook;
        const kernel = panel?.sessionContext.session?.kernel;
        const status = kernel?.status ?? 'no kernel';
        // e.g. "Select Kernel" when the kernelspec is missing, or a kernel error.
        const dialog = document.querySelector('.jp-Dialog')?.textContent?.trim();
        const fatal = status === 'dead' ? 'the kernel died' : dialog ? `a dialog is open: ${dialog.slice(0, 300)}` : undefined;
        return { done: status === 'idle', state: { status, kernel: kernel?.name ?? null }, fatal };
      }),
    timeoutMs,
  );
}

export interface CellState {
  index: number;
  type: string;
  executionCount: number | null;
  prompt: string;
  outputTypes: string[];
  mimeTypes: string[];
  error?: string;
  head: string;
}

export interface NotebookState {
  kernelStatus: string;
  runAll: { settled: boolean; value?: unknown; error?: string } | null;
  cells: CellState[];
}

/** Every cell's execution count, prompt and outputs, and the kernel's status. */
export function notebookState(page: Page): Promise<NotebookState> {
  return page.evaluate(() => {
    const w = window as unknown as LabWindow;
    const panel = w.__hl!.notebook!;
    const cells = panel.content.widgets.map((cell, index) => {
      const outputs = cell.model.outputs ? (cell.model.outputs.toJSON() as Array<Record<string, unknown>>) : [];
      const error = outputs.find((output) => output.output_type === 'error');
      return {
        index,
        type: cell.model.type,
        executionCount: cell.model.type === 'code' ? (cell.model.executionCount ?? null) : null,
        prompt: (cell.node.querySelector('.jp-InputPrompt')?.textContent ?? '').trim(),
        outputTypes: outputs.map((output) => String(output.output_type)),
        mimeTypes: outputs.flatMap((output) => Object.keys((output.data as Record<string, unknown> | undefined) ?? {})),
        error: error ? `${String(error.ename)}: ${String(error.evalue)}` : undefined,
        head: cell.model.sharedModel.getSource().split('\n')[0].slice(0, 60),
      };
    });
    return { kernelStatus: panel.sessionContext.session?.kernel?.status ?? 'no kernel', runAll: w.__hl!.runAll ?? null, cells };
  });
}

/** Clears every output (so that what appears next comes from this run). */
export async function clearAllOutputs(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const w = window as unknown as LabWindow;
    w.jupyterapp.shell.activateById(w.__hl!.notebook!.id);
    await w.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
  });
}

/**
 * Runs every cell (`notebook:run-all-cells` on the notebook under test) and waits until the
 * command has settled, every code cell has an execution count and the kernel is idle again.
 * Returns the final state; `onProgress` sees each change in the number of executed cells.
 */
export async function runAllAndWait(page: Page, timeoutMs: number, onProgress?: (executed: number, total: number) => void): Promise<NotebookState> {
  await page.evaluate(() => {
    const w = window as unknown as LabWindow;
    w.jupyterapp.shell.activateById(w.__hl!.notebook!.id);
    const runAll: { settled: boolean; value?: unknown; error?: string } = { settled: false };
    w.__hl!.runAll = runAll;
    w.jupyterapp.commands.execute('notebook:run-all-cells').then(
      (value) => Object.assign(runAll, { settled: true, value }),
      (error: unknown) => Object.assign(runAll, { settled: true, error: String(error) }),
    );
  });
  let reported = -1;
  return pollUntil(
    'all cells to run',
    async () => {
      const state = await notebookState(page);
      const code = state.cells.filter((cell) => cell.type === 'code');
      const executed = code.filter((cell) => cell.executionCount !== null && cell.prompt !== '[*]:').length;
      if (executed !== reported) onProgress?.((reported = executed), code.length);
      const failed = code.some((cell) => cell.error);
      const done = Boolean(state.runAll?.settled) && state.kernelStatus === 'idle' && (executed === code.length || failed);
      const dialog = await page.evaluate(() => document.querySelector('.jp-Dialog')?.textContent?.trim());
      const fatal = state.kernelStatus === 'dead' ? 'the kernel died' : dialog ? `a dialog is open: ${dialog.slice(0, 300)}` : undefined;
      return { done, state, fatal };
    },
    timeoutMs,
    500,
  );
}

/** Scrolls the notebook so that cell `index` is in view (and waits for the scroll). */
export async function scrollToCell(page: Page, index: number): Promise<void> {
  await page.evaluate(async (index) => {
    const panel = (window as unknown as LabWindow).__hl!.notebook!;
    await panel.content.scrollToItem(index, 'start');
    panel.content.widgets[index].node.scrollIntoView({ block: 'start' });
  }, index);
}

/** The index of the first cell whose source contains `text`. */
export async function findCell(page: Page, text: string): Promise<number> {
  const index = await page.evaluate((text) => {
    const panel = (window as unknown as LabWindow).__hl!.notebook!;
    return panel.content.widgets.findIndex((cell) => cell.model.sharedModel.getSource().includes(text));
  }, text);
  if (index < 0) throw new Error(`no cell contains ${JSON.stringify(text)}`);
  return index;
}

/** Executes a command in the app, resolving with whether it ran (errors become rejections). */
export function executeCommand(page: Page, id: string, args?: Record<string, unknown>): Promise<void> {
  return page.evaluate(
    async ([id, args]) => {
      await (window as unknown as LabWindow).jupyterapp.commands.execute(id as string, args as Record<string, unknown> | undefined);
    },
    [id, args ?? {}] as const,
  );
}

/** The run records in the notebook's outputs: name and content hash, in cell order. */
export function runRecords(page: Page): Promise<Array<{ name: string; contentHash: string; cellIndex: number }>> {
  return page.evaluate(() => {
    const panel = (window as unknown as LabWindow).__hl!.notebook!;
    const found: Array<{ name: string; contentHash: string; cellIndex: number }> = [];
    panel.content.widgets.forEach((cell, cellIndex) => {
      const outputs = cell.model.outputs;
      for (let i = 0; outputs && i < outputs.length; i++) {
        const record = outputs.get(i).data['application/vnd.hyperlab.run.v1+json'] as { name?: string; contentHash?: string } | undefined;
        if (record?.contentHash) found.push({ name: record.name ?? '', contentHash: record.contentHash, cellIndex });
      }
    });
    return found;
  });
}

/** Makes the notebook under test the shell's current widget (commands act on it), and waits for that. */
export async function activateNotebook(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as LabWindow;
    w.jupyterapp.shell.activateById(w.__hl!.notebook!.id);
  });
  await page.waitForFunction(() => {
    const w = window as unknown as LabWindow;
    return w.jupyterapp.shell.currentWidget === w.__hl!.notebook;
  }, undefined, { timeout: 30_000, polling: 100 });
}

/** Collapses a sidebar (e.g. the file browser), leaving room for the main area in screenshots. */
export async function collapseSidebar(page: Page, side: 'left' | 'right'): Promise<void> {
  await page.evaluate((side) => {
    const shell = (window as unknown as LabWindow).jupyterapp.shell as { collapseLeft?: () => void; collapseRight?: () => void };
    if (side === 'left') shell.collapseLeft?.();
    else shell.collapseRight?.();
  }, side);
}

/**
 * Drags the handle between the main area and the right sidebar so that the sidebar is `width` px
 * wide (the way a user widens it).
 */
export async function resizeRightSidebar(page: Page, width: number): Promise<void> {
  const stack = await page.locator('#jp-right-stack').boundingBox();
  if (!stack || stack.width === 0) throw new Error('the right sidebar is not open');
  const handles = page.locator('#jp-main-split-panel > .lm-SplitPanel-handle');
  let handle: { x: number; y: number; width: number; height: number } | null = null;
  for (const box of await Promise.all((await handles.all()).map((h) => h.boundingBox()))) {
    if (box && box.height > 0 && Math.abs(box.x + box.width / 2 - stack.x) <= 6) handle = box;
  }
  if (!handle) throw new Error('no split handle at the left edge of the right sidebar');
  const y = handle.y + handle.height / 2;
  const from = handle.x + handle.width / 2;
  await page.mouse.move(from, y);
  await page.mouse.down();
  await page.mouse.move(from - (width - stack.width), y, { steps: 8 });
  await page.mouse.up();
}
