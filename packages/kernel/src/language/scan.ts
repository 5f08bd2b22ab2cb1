/**
 * Token-level structure of a cell: which brackets, template literals and
 * comments are still open at the end of the code.
 *
 * Used by `isComplete` (is the cell finished? how far to indent the next
 * line?) and by completion/inspection, which temporarily close whatever the
 * user left open so that the footer imports stay at the top level.
 */
import ts from 'typescript';

/** An open construct on the bracket stack. `${` is a template substitution. */
export type OpenBracket = '{' | '(' | '[' | '${';

/** Result of {@link scanStructure}. */
export interface CellStructure {
  /** Brackets still open at the end of the code, outermost first. */
  stack: OpenBracket[];
  /** The code ends inside a template literal's text (not inside `${...}`). */
  unterminatedTemplate: boolean;
  /** The code ends inside a block comment. */
  unterminatedComment: boolean;
  /** The last token is a string literal that runs into the end of the line. */
  unterminatedString: boolean;
  /** A closing bracket did not match the innermost open one (or none was open). */
  mismatched: boolean;
  /** Depth of {@link stack} at the start of the last non-blank line. */
  depthAtLastLineStart: number;
  /** Offset where the last non-blank line starts. */
  lastLineStart: number;
  /** End offset of the last token that is not whitespace (comments count). */
  lastTokenEnd: number;
}

const CLOSER: Record<OpenBracket, string> = { '{': '}', '(': ')', '[': ']', '${': '}`' };

/** Tokens after which a `/` is a division operator rather than the start of a regex. */
function endsExpression(kind: ts.SyntaxKind): boolean {
  switch (kind) {
    case ts.SyntaxKind.Identifier:
    case ts.SyntaxKind.PrivateIdentifier:
    case ts.SyntaxKind.NumericLiteral:
    case ts.SyntaxKind.BigIntLiteral:
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.RegularExpressionLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
    case ts.SyntaxKind.TemplateTail:
    case ts.SyntaxKind.CloseParenToken:
    case ts.SyntaxKind.CloseBracketToken:
    case ts.SyntaxKind.CloseBraceToken:
    case ts.SyntaxKind.PlusPlusToken:
    case ts.SyntaxKind.MinusMinusToken:
    case ts.SyntaxKind.ThisKeyword:
    case ts.SyntaxKind.SuperKeyword:
    case ts.SyntaxKind.TrueKeyword:
    case ts.SyntaxKind.FalseKeyword:
    case ts.SyntaxKind.NullKeyword:
      return true;
    default:
      return false;
  }
}

function isTrivia(kind: ts.SyntaxKind): boolean {
  return (
    kind === ts.SyntaxKind.WhitespaceTrivia ||
    kind === ts.SyntaxKind.NewLineTrivia ||
    kind === ts.SyntaxKind.SingleLineCommentTrivia ||
    kind === ts.SyntaxKind.MultiLineCommentTrivia ||
    kind === ts.SyntaxKind.ShebangTrivia ||
    kind === ts.SyntaxKind.ConflictMarkerTrivia
  );
}

/** Offset of the start of the last line that contains something besides whitespace. */
function lastNonBlankLineStart(code: string): number {
  let end = code.length;
  while (end > 0 && /\s/.test(code[end - 1]!)) end--;
  let start = end;
  while (start > 0 && code[start - 1] !== '\n' && code[start - 1] !== '\r') start--;
  return start;
}

/**
 * Scans `code` (TypeScript) and reports which constructs are still open at its end.
 * Never throws; on malformed input the result is a best effort.
 */
export function scanStructure(code: string): CellStructure {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /*skipTrivia*/ false, ts.LanguageVariant.Standard, code);
  const stack: OpenBracket[] = [];
  const lastLineStart = lastNonBlankLineStart(code);
  let depthAtLastLineStart = -1;
  let unterminatedTemplate = false;
  let unterminatedComment = false;
  let unterminatedString = false;
  let mismatched = false;
  let lastTokenEnd = 0;
  let previous = ts.SyntaxKind.Unknown;

  for (;;) {
    let kind = scanner.scan();
    if (kind === ts.SyntaxKind.EndOfFileToken) break;
    const start = scanner.getTokenStart();
    if (depthAtLastLineStart < 0 && start >= lastLineStart) depthAtLastLineStart = stack.length;
    if (kind === ts.SyntaxKind.WhitespaceTrivia || kind === ts.SyntaxKind.NewLineTrivia) continue;

    if ((kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) && !endsExpression(previous)) {
      kind = scanner.reScanSlashToken();
    }
    switch (kind) {
      case ts.SyntaxKind.OpenBraceToken:
        stack.push('{');
        break;
      case ts.SyntaxKind.OpenParenToken:
        stack.push('(');
        break;
      case ts.SyntaxKind.OpenBracketToken:
        stack.push('[');
        break;
      case ts.SyntaxKind.CloseParenToken:
        if (stack[stack.length - 1] === '(') stack.pop();
        else mismatched = true;
        break;
      case ts.SyntaxKind.CloseBracketToken:
        if (stack[stack.length - 1] === '[') stack.pop();
        else mismatched = true;
        break;
      case ts.SyntaxKind.CloseBraceToken:
        if (stack[stack.length - 1] === '${') {
          kind = scanner.reScanTemplateToken(false);
          if (kind === ts.SyntaxKind.TemplateTail) stack.pop();
          if (scanner.isUnterminated()) unterminatedTemplate = true;
        } else if (stack[stack.length - 1] === '{') {
          stack.pop();
        } else {
          mismatched = true;
        }
        break;
      case ts.SyntaxKind.TemplateHead:
        stack.push('${');
        break;
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
        if (scanner.isUnterminated()) unterminatedTemplate = true;
        break;
      case ts.SyntaxKind.MultiLineCommentTrivia:
        if (scanner.isUnterminated()) unterminatedComment = true;
        break;
      case ts.SyntaxKind.StringLiteral:
        unterminatedString = scanner.isUnterminated();
        break;
      default:
        break;
    }
    if (kind !== ts.SyntaxKind.StringLiteral) unterminatedString = false;
    lastTokenEnd = scanner.getTokenEnd();
    if (!isTrivia(kind)) previous = kind;
  }
  if (depthAtLastLineStart < 0) depthAtLastLineStart = stack.length;
  return {
    stack,
    unterminatedTemplate,
    unterminatedComment,
    unterminatedString,
    mismatched,
    depthAtLastLineStart,
    lastLineStart,
    lastTokenEnd,
  };
}

/**
 * Text that closes every construct left open at the end of `code`, innermost
 * first (e.g. `)}` for `if (a) { f(b.`). Empty when the code is balanced.
 * Meant to be placed on a new line after the code.
 */
export function closersFor(structure: CellStructure): string {
  let text = '';
  if (structure.unterminatedComment) text += '*/';
  // An unterminated template literal's text runs to the end, so it is the innermost construct.
  if (structure.unterminatedTemplate) text += '`';
  for (let i = structure.stack.length - 1; i >= 0; i--) text += CLOSER[structure.stack[i]!];
  return text;
}
