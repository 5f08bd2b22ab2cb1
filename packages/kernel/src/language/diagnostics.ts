/**
 * Mapping TypeScript diagnostics of the virtual cell file back to the cell,
 * and formatting them for display.
 */
import ts from 'typescript';
import type { CellDiagnostic } from './types.js';

/** Offsets where lines start, using TypeScript's line terminators. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (ch === 10 || ch === 0x2028 || ch === 0x2029) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** 1-based line and column of `offset`, given the {@link lineStarts} of the text. */
export function lineColumn(starts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

/** Diagnostic codes that are artifacts of checking cells as modules, never the user's problem. */
export const MODULE_NOISE = new Set<number>([
  1202, // Import assignment cannot be used when targeting ECMAScript modules (the executor supports it)
  1203, // Export assignment cannot be used when targeting ECMAScript modules
  1208, // '...' cannot be compiled under '--isolatedModules' because it is considered a global script file
  1375, // 'await' expressions are only allowed at the top level of a file when that file is a module
  1378, // Top-level 'await' expressions are only allowed when the 'module' option is set to ...
  1431, // 'for await' loops are only allowed at the top level of a file when that file is a module
  1432, // Top-level 'for await' loops are only allowed when the 'module' option is set to ...
  2669, // Augmentations for the global scope can only be directly nested in external modules
]);

/** "Unused" diagnostics (noUnusedLocals): meaningless for top-level names later cells may use. */
export const UNUSED_CODES = new Set<number>([6133, 6138, 6192, 6196, 6198, 6199, 6205]);

/** Maps a `ts.DiagnosticCategory` to the category names of {@link CellDiagnostic}. */
export function categoryName(category: ts.DiagnosticCategory): CellDiagnostic['category'] {
  switch (category) {
    case ts.DiagnosticCategory.Error:
      return 'error';
    case ts.DiagnosticCategory.Warning:
      return 'warning';
    case ts.DiagnosticCategory.Suggestion:
      return 'suggestion';
    default:
      return 'message';
  }
}

/**
 * Formats diagnostics for display, one per line, e.g.
 * `Cell line 3, column 7: Type 'number' is not assignable to type 'string'. (TS2322)`.
 * Continuation lines of chained messages are indented by two spaces.
 */
export function formatDiagnostics(diagnostics: CellDiagnostic[]): string {
  return diagnostics
    .map((d) => {
      const prefix = d.category === 'error' ? '' : `${d.category[0]!.toUpperCase()}${d.category.slice(1)}: `;
      const message = d.message.replace(/\n/g, '\n  ');
      return `Cell line ${d.line}, column ${d.column}: ${prefix}${message} (TS${d.code})`;
    })
    .join('\n');
}
