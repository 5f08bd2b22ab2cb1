/**
 * TypeScript cell → JavaScript script that runs in the kernel's persistent realm.
 *
 * 1. TypeScript's own transpiler removes types (ES2022 output, imports kept verbatim).
 * 2. Top-level declarations become assignments to globals, so that they persist across cells and a
 *    re-run cell redeclares them without error; imports become awaited dynamic imports (CommonJS and
 *    ESM packages alike); the last expression statement becomes the cell's value.
 * 3. Everything is wrapped in an async arrow function, so top-level `await` works.
 *
 * Every rewrite keeps line breaks where they were, so a runtime position maps back to the cell
 * through TypeScript's source map alone.
 */
import ts from 'typescript';

/** A cell compiled for the executor. */
export interface CompiledCell {
  /** The script to run; evaluates to a promise of the cell's value. */
  js: string;
  /** Source map (v3 JSON) from the transpiled JavaScript back to the cell. */
  sourceMap: string;
  /** Columns added to line 1 by the wrapper; subtract before consulting the source map. */
  lineOneOffset: number;
  /** Top-level names the cell declares (values and imports). */
  declared: string[];
  /** True when the last statement is an expression whose value the cell returns. */
  hasValue: boolean;
}

/** A syntax error, with 1-based line and column in the cell. */
export class CellSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
    this.name = 'SyntaxError';
  }
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  sourceMap: true,
  esModuleInterop: true,
  useDefineForClassFields: true,
  experimentalDecorators: false,
  jsx: ts.JsxEmit.React,
};

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Replaces [start, end) by `text`, padded with the newlines the removed range held. */
function lineKeeping(source: string, start: number, end: number, text: string): Edit {
  const removed = source.slice(start, end);
  const newlines = (removed.match(/\n/g) ?? []).length - (text.match(/\n/g) ?? []).length;
  return { start, end, text: text + '\n'.repeat(Math.max(0, newlines)) };
}

function bindingNames(name: ts.BindingName, into: string[]): void {
  if (ts.isIdentifier(name)) into.push(name.text);
  else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bindingNames(element.name, into);
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === kind);
}

/** Compiles one cell. `filename` names the script in stack traces, e.g. `Cell[3]`. */
export function compileCell(source: string, filename: string): CompiledCell {
  const transpiled = ts.transpileModule(`${source}\nexport {};\n`, {
    compilerOptions: COMPILER_OPTIONS,
    fileName: 'cell.ts',
    reportDiagnostics: true,
  });
  const syntax = (transpiled.diagnostics ?? []).find((d) => d.category === ts.DiagnosticCategory.Error);
  if (syntax) {
    const { line, character } =
      syntax.file && syntax.start !== undefined ? syntax.file.getLineAndCharacterOfPosition(syntax.start) : { line: 0, character: 0 };
    throw new CellSyntaxError(ts.flattenDiagnosticMessageText(syntax.messageText, '\n'), line + 1, character + 1);
  }
  const js = transpiled.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  const file = ts.createSourceFile('cell.js', js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: Edit[] = [];
  const declared: string[] = [];
  const hoisted: string[] = [];
  const statements = file.statements;
  const valueCandidates = statements.filter((statement) => !ts.isExportDeclaration(statement) && !ts.isEmptyStatement(statement));
  const lastStatement = valueCandidates[valueCandidates.length - 1];
  let hasValue = false;
  let importCounter = 0;

  const stripExport = (statement: ts.Statement): void => {
    for (const modifier of ts.canHaveModifiers(statement) ? ts.getModifiers(statement) ?? [] : []) {
      if (modifier.kind === ts.SyntaxKind.ExportKeyword || modifier.kind === ts.SyntaxKind.DefaultKeyword) {
        edits.push({ start: modifier.getStart(file), end: modifier.end, text: ' '.repeat(modifier.end - modifier.getStart(file)) });
      }
    }
  };

  statements.forEach((statement) => {
    const isLast = statement === lastStatement;
    if (ts.isImportDeclaration(statement)) {
      const specifier = JSON.stringify((statement.moduleSpecifier as ts.StringLiteral).text);
      const load = `await __hl.import(${specifier})`;
      const clause = statement.importClause;
      let text: string;
      if (!clause) text = `${load};`;
      else {
        const temp = `__hl_m${importCounter++}`;
        const parts: string[] = [];
        if (clause.name) {
          declared.push(clause.name.text);
          parts.push(`${clause.name.text} = __hl.importDefault(${temp});`);
        }
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) {
          declared.push(bindings.name.text);
          parts.push(`${bindings.name.text} = ${temp};`);
        } else if (bindings) {
          const props = bindings.elements.map((element) => {
            declared.push(element.name.text);
            const imported = (element.propertyName ?? element.name).text;
            return imported === element.name.text ? imported : `${JSON.stringify(imported)}: ${element.name.text}`;
          });
          if (props.length) parts.push(`({ ${props.join(', ')} } = ${temp});`);
        }
        text = `{ const ${temp} = ${load}; ${parts.join(' ')} }`;
      }
      edits.push(lineKeeping(js, statement.getStart(file), statement.end, text));
      return;
    }
    if (ts.isExportDeclaration(statement)) {
      edits.push(lineKeeping(js, statement.getStart(file), statement.end, ''));
      return;
    }
    if (ts.isExportAssignment(statement)) {
      const start = statement.getStart(file);
      const exprStart = statement.expression.getStart(file);
      edits.push({ start, end: exprStart, text: isLast ? 'return (' : '(' });
      edits.push({ start: statement.expression.end, end: statement.expression.end, text: ')' });
      hasValue = isLast;
      return;
    }
    stripExport(statement);
    if (ts.isVariableStatement(statement)) {
      const list = statement.declarationList;
      const isVar = !(list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const));
      const keywordStart = list.getStart(file);
      const firstDeclaration = list.declarations[0];
      const names: string[] = [];
      for (const declaration of list.declarations) bindingNames(declaration.name, names);
      declared.push(...names);
      const assigned = list.declarations.filter((d) => d.initializer || !isVar);
      if (assigned.length === 0) {
        // `var x;` must not reset an existing value (enums and namespaces merge through it),
        // but must make the name exist so that `x || (x = {})` can read it.
        const ensure = names.map((name) => `(${JSON.stringify(name)} in globalThis) || (globalThis.${name} = undefined);`).join(' ');
        edits.push(lineKeeping(js, statement.getStart(file), statement.end, ensure));
        return;
      }
      edits.push({ start: keywordStart, end: firstDeclaration.getStart(file), text: '(' });
      for (const declaration of list.declarations) {
        if (!declaration.initializer) edits.push({ start: declaration.end, end: declaration.end, text: isVar ? '' : ' = undefined' });
      }
      edits.push({ start: list.end, end: list.end, text: ')' });
      return;
    }
    if (ts.isFunctionDeclaration(statement) && statement.name) {
      declared.push(statement.name.text);
      hoisted.push(statement.name.text);
      return;
    }
    if (ts.isClassDeclaration(statement) && statement.name) {
      declared.push(statement.name.text);
      const start = statement.getStart(file);
      edits.push({ start, end: start, text: `${statement.name.text} = ` });
      edits.push({ start: statement.end, end: statement.end, text: ';' });
      return;
    }
    if (isLast && ts.isExpressionStatement(statement)) {
      const expression = statement.expression;
      edits.push({ start: expression.getStart(file), end: expression.getStart(file), text: 'return (' });
      edits.push({ start: expression.end, end: expression.end, text: ')' });
      hasValue = true;
    }
  });

  // Dynamic import() and import.meta anywhere in the cell.
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      edits.push({ start: node.expression.getStart(file), end: node.expression.end, text: '__hl.import' });
    } else if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      edits.push({ start: node.getStart(file), end: node.end, text: '__hl.importMeta' });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);

  // Right to left; at one position, the later-pushed edit goes first so earlier ones end up before it.
  const order = edits.map((edit, index) => ({ edit, index }));
  order.sort((a, b) => b.edit.start - a.edit.start || b.index - a.index);
  edits.splice(0, edits.length, ...order.map(({ edit }) => edit));
  let body = js;
  for (const edit of edits) body = body.slice(0, edit.start) + edit.text + body.slice(edit.end);
  const prefix = `(async () => { ${hoisted.map((name) => `globalThis.${name} = ${name}; `).join('')}`;
  const script = `${prefix}${body}\n})()\n//# sourceURL=${filename}`;
  return {
    js: script,
    sourceMap: transpiled.sourceMapText ?? '',
    lineOneOffset: prefix.length,
    declared: [...new Set(declared)],
    hasValue,
  };
}
