/** Which cells are YAML: pure, for tests. */

/** JupyterLab's MIME type for YAML (CodeMirror's YAML mode). */
export const YAML_MIME = 'text/x-yaml';

/** Cell magics whose body is YAML (the experiment magics). */
export const YAML_MAGICS: ReadonlySet<string> = new Set(['adapter', 'continual', 'hypernet', 'sweep']);

/** The cell magic a source starts with (`%%adapter --as x` → `adapter`), if any. */
export function cellMagicName(source: string): string | undefined {
  return /^%%([A-Za-z_][\w.-]*)/.exec(source.trimStart())?.[1];
}

/** The editor MIME type a cell should have. */
export function cellMimeType(source: string, notebookMime: string, yamlMagics: ReadonlySet<string>): string {
  const magic = cellMagicName(source);
  return magic !== undefined && yamlMagics.has(magic) ? YAML_MIME : notebookMime;
}
