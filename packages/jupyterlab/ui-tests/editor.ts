/**
 * What a cell's CodeMirror editor shows: the editor's MIME type and, for each word of the source,
 * the token class CodeMirror gave it and the colour that class resolves to, next to the colours
 * of JupyterLab's highlight variables (`--jp-mirror-editor-atom-color`…), so a test can tell a
 * YAML key (an `atom` token) from a number or plain text.
 */
import type { Page } from 'playwright-core';
import type { LabWindow } from './lab';

/** A highlighted span of the editor. */
export interface Token {
  text: string;
  /** Its class names (CodeMirror's generated highlight classes). */
  classes: string[];
  /** Its computed colour. */
  color: string;
}

/** What {@link editorTokens} reports. */
export interface EditorTokens {
  /** The cell model's MIME type (`text/x-yaml` for an experiment-magic cell). */
  mimeType: string;
  tokens: Token[];
  /** Computed colours of the theme's highlight variables, by token type (`atom`, `number`, `keyword`…). */
  palette: Record<string, string>;
}

/** The tokens of cell `cellIndex`'s editor (scrolled into view, so CodeMirror has drawn its lines). */
export async function editorTokens(page: Page, cellIndex: number): Promise<EditorTokens> {
  return page.evaluate(async (cellIndex) => {
    const panel = (window as unknown as LabWindow).__hl!.notebook!;
    await panel.content.scrollToItem(cellIndex, 'start');
    const cell = panel.content.widgets[cellIndex] as unknown as { node: HTMLElement; model: { mimeType: string } };
    const tokens = [...cell.node.querySelectorAll('.cm-content .cm-line span')].map((span) => ({
      text: span.textContent ?? '',
      classes: [...span.classList],
      color: getComputedStyle(span).color,
    }));
    const probe = document.createElement('span');
    cell.node.querySelector('.cm-content')!.appendChild(probe);
    const palette: Record<string, string> = {};
    for (const type of ['atom', 'number', 'keyword', 'string', 'meta', 'variable', 'comment']) {
      probe.style.color = `var(--jp-mirror-editor-${type}-color)`;
      palette[type] = getComputedStyle(probe).color;
    }
    probe.remove();
    return { mimeType: cell.model.mimeType, tokens, palette };
  }, cellIndex);
}
