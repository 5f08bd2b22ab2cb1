/**
 * Commands run the way a user runs them: the command palette (Ctrl+Shift+C, type, click the
 * item) and the item dialog a command may open (pick an option, OK).
 */
import type { Page } from 'playwright-core';

/** Opens the command palette, types `label` and clicks the item with exactly that label. */
export async function runFromPalette(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#modal-command-palette');
  const input = palette.locator('input.lm-CommandPalette-input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(label);
  const item = palette.locator('li.lm-CommandPalette-item:not(.lm-mod-disabled)').filter({ has: page.locator('.lm-CommandPalette-itemLabel', { hasText: new RegExp(`^${label}$`) }) });
  await item.first().click({ timeout: 30_000 });
  await palette.waitFor({ state: 'hidden', timeout: 30_000 });
}

/** In the open item dialog (`InputDialog.getItem`), picks the first option starting with `prefix` and accepts; returns its label. */
export async function chooseDialogItem(page: Page, prefix: string): Promise<string> {
  const dialog = page.locator('.jp-Dialog');
  const select = dialog.locator('select');
  await select.waitFor({ state: 'visible', timeout: 60_000 });
  const options = await select.locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
  const value = options.find((o) => o.startsWith(prefix));
  if (!value) throw new Error(`no option starts with ${JSON.stringify(prefix)}: ${options.join(' | ')}`);
  await select.selectOption(value);
  await dialog.locator('button.jp-mod-accept').click();
  await dialog.waitFor({ state: 'detached', timeout: 30_000 });
  return value;
}
