/**
 * Public data types of the notebook language service (re-exported by `service.ts`).
 */

/** How the kernel treats type errors before running a cell. */
export type TypecheckMode = 'strict' | 'warn' | 'off';

/** A diagnostic in the cell's own coordinates (1-based lines and columns, UTF-16 columns). */
export interface CellDiagnostic {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** TypeScript diagnostic code, e.g. 2322. */
  code: number;
  category: 'error' | 'warning' | 'suggestion' | 'message';
  message: string;
}

/** One completion candidate. `start`/`end` is the range of the cell it replaces. */
export interface CompletionItem {
  start: number;
  end: number;
  text: string;
  /** Completion kind: 'function', 'method', 'property', 'variable', 'class', 'keyword', 'module'... */
  type: string;
  /** Signature / declaration text, computed for the first items only. */
  signature?: string;
}

/** Result of a completion request, shaped after Jupyter's `complete_reply`. */
export interface CompletionResult {
  /** Texts of the items that replace exactly `[cursorStart, cursorEnd)`. */
  matches: string[];
  cursorStart: number;
  cursorEnd: number;
  items: CompletionItem[];
}

/** Result of an inspection (Jupyter `inspect_reply`). */
export interface InspectResult {
  found: boolean;
  plain: string;
  markdown: string;
}

/** Result of Jupyter's `is_complete_request`. */
export interface IsCompleteResult {
  status: 'complete' | 'incomplete' | 'invalid' | 'unknown';
  indent?: string;
}

/** Constructor options of `NotebookLanguageService`. */
export interface LanguageServiceOptions {
  /** The notebook's directory: npm imports and `tsconfig.json` are looked up from here. */
  cwd: string;
  /** `@types` folders of the kernel itself (so `process`, `Buffer`, `require` type-check). */
  kernelTypeRoots: string[];
  /** Declaration text of the kernel's globals (`display`, `input`...). */
  globalsDts: string;
}

/** A name declared by a committed cell, as listed by `%who`. */
export interface DeclaredName {
  name: string;
  /** 'const', 'let', 'var', 'function', 'class', 'interface', 'type', 'enum', 'namespace' or 'import'. */
  kind: string;
  /** Execution count of the cell that declared it last. */
  cell: number;
  /** Quick-info text, e.g. `const x: number`. */
  type: string;
}
