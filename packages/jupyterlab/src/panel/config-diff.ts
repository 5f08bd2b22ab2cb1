/**
 * The side-by-side diff of two runs' configs (YAML, keys sorted) in a read-only Monaco diff
 * editor, inside `.hl-config-diff`. Monaco loads when the first diff is shown.
 */
import { configYaml } from './config-yaml';
import { loadMonaco, type Monaco } from './monaco-loader';
import type { RunRow } from './table-model';

type DiffEditor = ReturnType<Monaco['editor']['createDiffEditor']>;
type TextModel = ReturnType<Monaco['editor']['createModel']>;

/** Whether JupyterLab shows a dark theme. */
const isDark = (): boolean => document.body.dataset.jpThemeLight === 'false';

/** A config diff in a container it owns. */
export class ConfigDiff {
  /** The container (`.hl-config-diff`); Monaco's `.monaco-diff-editor` goes inside it. */
  readonly node: HTMLDivElement;
  private readonly caption: HTMLDivElement;
  private readonly host: HTMLDivElement;
  private editor: DiffEditor | undefined;
  private models: TextModel[] = [];
  private shown: string | undefined;
  private version = 0;
  private disposed = false;

  constructor() {
    this.node = document.createElement('div');
    this.node.className = 'hl-config-diff-section';
    this.caption = document.createElement('div');
    this.caption.className = 'hl-config-diff-caption';
    this.host = document.createElement('div');
    this.host.className = 'hl-config-diff';
    this.node.append(this.caption, this.host);
    this.node.hidden = true;
  }

  /** Shows the diff of two runs' configs (left: the first), or hides it when `pair` is undefined. */
  async show(pair: [RunRow, RunRow] | undefined): Promise<void> {
    const version = ++this.version;
    if (!pair) {
      this.node.hidden = true;
      this.shown = undefined;
      return;
    }
    const [left, right] = pair;
    const original = configYaml(left.record.config);
    const modified = configYaml(right.record.config);
    const key = `${left.key}\n${right.key}\n${original}\n${modified}`;
    this.node.hidden = false;
    this.caption.textContent = `config: ${left.name} ↔ ${right.name}`;
    if (key === this.shown && this.editor) return;
    let monaco: Monaco;
    try {
      if (!this.editor) this.host.textContent = 'Loading the diff editor…';
      monaco = await loadMonaco();
    } catch (error) {
      this.host.textContent = `The diff editor did not load: ${error instanceof Error ? error.message : String(error)}`;
      return;
    }
    if (this.disposed || version !== this.version) return;
    if (!this.editor) {
      this.host.textContent = '';
      this.editor = monaco.editor.createDiffEditor(this.host, {
        readOnly: true,
        originalEditable: false,
        renderSideBySide: true,
        useInlineViewWhenSpaceIsLimited: false,
        automaticLayout: true,
        minimap: { enabled: false },
        scrollBeyondLastLine: false,
        renderOverviewRuler: false,
        lineNumbers: 'off',
        fontSize: 12,
        theme: isDark() ? 'vs-dark' : 'vs',
      });
    } else {
      monaco.editor.setTheme(isDark() ? 'vs-dark' : 'vs');
    }
    const models = [monaco.editor.createModel(original, 'yaml'), monaco.editor.createModel(modified, 'yaml')];
    this.editor.setModel({ original: models[0], modified: models[1] });
    for (const model of this.models) model.dispose();
    this.models = models;
    this.shown = key;
  }

  /** Re-measures the editor (after the panel is shown or resized). */
  layout(): void {
    this.editor?.layout();
  }

  /** Disposes the editor and its models. */
  dispose(): void {
    this.disposed = true;
    this.editor?.dispose();
    for (const model of this.models) model.dispose();
    this.models = [];
    this.editor = undefined;
  }
}
