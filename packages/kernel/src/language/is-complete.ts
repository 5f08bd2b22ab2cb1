/**
 * Jupyter `is_complete_request` for TypeScript cells: decides whether the
 * console should execute the code or wait for more lines.
 */
import ts from 'typescript';
import { scanStructure } from './scan.js';
import type { IsCompleteResult } from './types.js';

/**
 * Replaces lines that are not TypeScript (magics `%`, shell `!`, help `?`/`obj?`)
 * by spaces, keeping every offset and line break unchanged.
 */
export function blankNonTypeScriptLines(code: string): string {
  return code.replace(/[^\r\n]+/g, (line) => {
    const trimmed = line.trim();
    if (/^[%!?]/.test(trimmed) || trimmed.endsWith('?')) return ' '.repeat(line.length);
    return line;
  });
}

/** Parse errors of a source file (TypeScript keeps them on an internal property). */
export function parseDiagnosticsOf(sourceFile: ts.SourceFile): readonly ts.DiagnosticWithLocation[] {
  return (sourceFile as unknown as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
}

/**
 * Parses `code` as an ES module (top-level `await`, `import` allowed).
 * `setParentNodes` is needed when the caller walks the tree with `getStart()`.
 */
export function parseCell(code: string, setParentNodes = false): ts.SourceFile {
  return ts.createSourceFile(
    'cell.ts',
    code,
    { languageVersion: ts.ScriptTarget.Latest, impliedNodeFormat: ts.ModuleKind.ESNext },
    setParentNodes,
    ts.ScriptKind.TS,
  );
}

function leadingWhitespace(code: string, lineStart: number): string {
  const match = /^[ \t]*/.exec(code.slice(lineStart));
  return match ? match[0] : '';
}

/**
 * Classifies a cell:
 * - `complete`: empty, a `%%` cell magic, or syntactically valid TypeScript;
 * - `incomplete`: every syntax error sits at the end of the input (unclosed bracket,
 *   template literal or block comment, trailing operator...). `indent` is the last
 *   line's indentation, plus two spaces when that line opened a bracket;
 * - `invalid`: a syntax error before the end of the input (`1 +* 2`, `)`).
 */
export function isComplete(code: string): IsCompleteResult {
  const firstLine = code.replace(/^\s*\n/, '').split(/\r?\n|\r/, 1)[0] ?? '';
  if (firstLine.trimStart().startsWith('%%')) return { status: 'complete' };
  const cleaned = blankNonTypeScriptLines(code);
  if (cleaned.trim() === '') return { status: 'complete' };

  const structure = scanStructure(cleaned);
  const errors = parseDiagnosticsOf(parseCell(cleaned));
  if (errors.length === 0) return { status: 'complete' };

  if (structure.mismatched) return { status: 'invalid' };
  if (structure.unterminatedString) {
    // A string literal cannot span lines unless the line ends with a backslash.
    return cleaned.trimEnd().endsWith('\\') ? incomplete(cleaned, false) : { status: 'invalid' };
  }
  const allAtEnd = errors.every((d) => (d.start ?? 0) >= structure.lastTokenEnd);
  if (!allAtEnd) return { status: 'invalid' };
  return incomplete(cleaned, structure.stack.length > structure.depthAtLastLineStart);

  function incomplete(text: string, opensBlock: boolean): IsCompleteResult {
    const indent = leadingWhitespace(text, structure.lastLineStart);
    return { status: 'incomplete', indent: opensBlock ? indent + '  ' : indent };
  }
}
