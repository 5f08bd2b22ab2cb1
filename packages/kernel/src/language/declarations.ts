/**
 * Top-level declarations of a cell: which names it declares (and how), and the
 * text of the cell rewritten as a module that exports them.
 */
import ts from 'typescript';
import { parseCell } from './is-complete.js';

/** How a top-level name was declared. */
export type DeclarationKind =
  | 'const'
  | 'let'
  | 'var'
  | 'function'
  | 'class'
  | 'interface'
  | 'type'
  | 'enum'
  | 'namespace'
  | 'import';

/** A name declared at the top level of a cell. */
export interface TopLevelName {
  name: string;
  kind: DeclarationKind;
  /** Offset of the name's identifier in the cell. */
  pos: number;
  /** Also declared by a statement of another kind (e.g. `let Model` and `interface Model`). */
  merged: boolean;
}

/** An import binding of a cell (`import fs from 'fs'` binds `fs`). */
export interface ImportBinding {
  name: string;
  typeOnly: boolean;
}

/** What {@link analyzeCell} finds in a cell. */
export interface CellAnalysis {
  /** Declared names, first declaration of each name only, in source order. */
  names: TopLevelName[];
  /** Offsets where `export ` must be inserted (starts of unexported declarations). */
  exportInsertions: number[];
  /** Import bindings (re-exported by name from history files). */
  imports: ImportBinding[];
  /** Names declared with `export default function f` / `class C`: re-exported by name. */
  defaultExported: string[];
  /** Offsets where "unused" diagnostics about top-level declarations may start. */
  declarationStarts: Set<number>;
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []).some((m) => m.kind === kind) : false;
}

function bindingNames(name: ts.BindingName, out: ts.Identifier[]): void {
  if (ts.isIdentifier(name)) {
    out.push(name);
    return;
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) bindingNames(element.name, out);
  }
}

function variableKind(list: ts.VariableDeclarationList): DeclarationKind | undefined {
  const flags = list.flags;
  // `using` / `await using` bindings are disposed at the end of the cell and cannot be exported.
  if ((flags & ts.NodeFlags.Using) !== 0) return undefined;
  if ((flags & ts.NodeFlags.Const) !== 0) return 'const';
  if ((flags & ts.NodeFlags.Let) !== 0) return 'let';
  return 'var';
}

/**
 * Finds the top-level declarations of a cell: variables (including destructuring),
 * functions, classes, interfaces, type aliases, enums, namespaces and import bindings.
 */
export function analyzeCell(code: string): CellAnalysis {
  const sourceFile = parseCell(code, true);
  const names: TopLevelName[] = [];
  const seen = new Map<string, TopLevelName>();
  const exportInsertions: number[] = [];
  const imports: ImportBinding[] = [];
  const defaultExported: string[] = [];
  const declarationStarts = new Set<number>();

  const add = (id: ts.Identifier | ts.StringLiteral | undefined, kind: DeclarationKind): boolean => {
    if (!id || !ts.isIdentifier(id) || id.text === '') return false;
    declarationStarts.add(id.getStart(sourceFile));
    const previous = seen.get(id.text);
    if (previous) {
      if (previous.kind !== kind) previous.merged = true;
      return true;
    }
    const entry: TopLevelName = { name: id.text, kind, pos: id.getStart(sourceFile), merged: false };
    seen.set(id.text, entry);
    names.push(entry);
    return true;
  };

  for (const statement of sourceFile.statements) {
    const start = statement.getStart(sourceFile);
    const exported = hasModifier(statement, ts.SyntaxKind.ExportKeyword);
    const isDefault = hasModifier(statement, ts.SyntaxKind.DefaultKeyword);
    let declares = false;

    if (ts.isVariableStatement(statement)) {
      const kind = variableKind(statement.declarationList);
      if (!kind) continue;
      declarationStarts.add(start);
      declarationStarts.add(statement.declarationList.getStart(sourceFile));
      for (const declaration of statement.declarationList.declarations) {
        declarationStarts.add(declaration.name.getStart(sourceFile));
        const ids: ts.Identifier[] = [];
        bindingNames(declaration.name, ids);
        for (const id of ids) declares = add(id, kind) || declares;
      }
    } else if (ts.isFunctionDeclaration(statement)) {
      declares = add(statement.name, 'function');
    } else if (ts.isClassDeclaration(statement)) {
      declares = add(statement.name, 'class');
    } else if (ts.isInterfaceDeclaration(statement)) {
      declares = add(statement.name, 'interface');
    } else if (ts.isTypeAliasDeclaration(statement)) {
      declares = add(statement.name, 'type');
    } else if (ts.isEnumDeclaration(statement)) {
      declares = add(statement.name, 'enum');
    } else if (ts.isModuleDeclaration(statement)) {
      // `declare module "x"` and `declare global` declare no name of the cell.
      if (ts.isIdentifier(statement.name) && (statement.flags & ts.NodeFlags.GlobalAugmentation) === 0) {
        declares = add(statement.name, 'namespace');
      }
    } else if (ts.isImportDeclaration(statement)) {
      declarationStarts.add(start);
      const clause = statement.importClause;
      if (clause) {
        if (clause.name && add(clause.name, 'import')) {
          imports.push({ name: clause.name.text, typeOnly: clause.isTypeOnly });
        }
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) {
          if (add(bindings.name, 'import')) imports.push({ name: bindings.name.text, typeOnly: clause.isTypeOnly });
        } else if (bindings) {
          for (const element of bindings.elements) {
            if (add(element.name, 'import')) {
              imports.push({ name: element.name.text, typeOnly: clause.isTypeOnly || element.isTypeOnly });
            }
          }
        }
      }
      continue;
    } else if (ts.isImportEqualsDeclaration(statement)) {
      declarationStarts.add(start);
      if (add(statement.name, 'import') && !exported) {
        imports.push({ name: statement.name.text, typeOnly: statement.isTypeOnly });
      }
      continue;
    } else {
      continue;
    }

    if (!declares) continue;
    declarationStarts.add(start);
    if (!exported) exportInsertions.push(start);
    else if (isDefault) {
      const name = (statement as ts.FunctionDeclaration | ts.ClassDeclaration).name;
      if (name && !defaultExported.includes(name.text)) defaultExported.push(name.text);
    }
  }
  return { names, exportInsertions, imports: dedupeImports(imports), defaultExported, declarationStarts };
}

function dedupeImports(imports: ImportBinding[]): ImportBinding[] {
  const byName = new Map<string, ImportBinding>();
  for (const binding of imports) if (!byName.has(binding.name)) byName.set(binding.name, binding);
  return [...byName.values()];
}

/**
 * The cell's code with `export ` inserted before each unexported top-level
 * declaration (line count unchanged), followed by a line that re-exports its
 * import bindings. The caller appends the footer.
 */
export function exportedCellText(code: string, analysis: CellAnalysis): string {
  let text = '';
  let last = 0;
  for (const at of [...analysis.exportInsertions].sort((a, b) => a - b)) {
    text += code.slice(last, at) + 'export ';
    last = at;
  }
  text += code.slice(last);
  const values = analysis.imports.filter((b) => !b.typeOnly).map((b) => b.name);
  const types = analysis.imports.filter((b) => b.typeOnly).map((b) => b.name);
  const reexports: string[] = [];
  if (values.length + analysis.defaultExported.length > 0) {
    reexports.push(`export { ${[...values, ...analysis.defaultExported].join(', ')} };`);
  }
  if (types.length > 0) reexports.push(`export type { ${types.join(', ')} };`);
  return reexports.length > 0 ? `${text}\n${reexports.join(' ')}` : text;
}
