/**
 * Turning TypeScript display parts, documentation and element kinds into the
 * texts the notebook shows.
 */
import ts from 'typescript';

/**
 * Display text of a symbol, without the traces of the footer imports that carry
 * names across cells: `(alias) const x: number\nimport x` becomes `const x: number`.
 */
export function signatureText(parts: readonly ts.SymbolDisplayPart[] | undefined, kind?: string): string {
  let text = ts.displayPartsToString(parts ? [...parts] : undefined);
  if (kind === ts.ScriptElementKind.alias || text.startsWith('(alias) ')) {
    const lines = text.split('\n');
    while (lines.length > 1 && /^import /.test(lines[lines.length - 1]!)) lines.pop();
    text = lines.map((line) => line.replace(/^\(alias\) /, '')).join('\n');
  }
  return text;
}

/** `@param a - text` style rendering of JSDoc tags. */
export function tagLines(tags: readonly ts.JSDocTagInfo[] | undefined): string[] {
  return (tags ?? []).map((tag) => {
    const text = ts.displayPartsToString(tag.text ? [...tag.text] : undefined);
    return text ? `@${tag.name} ${text}` : `@${tag.name}`;
  });
}

function markdownTag(tag: ts.JSDocTagInfo): string {
  const parts = tag.text ?? [];
  const nameIndex = parts.findIndex((p) => p.kind === 'parameterName' || p.kind === 'typeParameterName');
  if (nameIndex >= 0) {
    const name = parts[nameIndex]!.text;
    const rest = ts.displayPartsToString(parts.slice(nameIndex + 1)).replace(/^\s*-?\s*/, '');
    return `*@${tag.name}* \`${name}\`${rest ? ` — ${rest}` : ''}`;
  }
  const text = ts.displayPartsToString([...parts]);
  return `*@${tag.name}*${text ? ` — ${text}` : ''}`;
}

/** Plain-text and Markdown renderings of a quick-info / completion-details result. */
export function renderDocs(
  signature: string,
  documentation: readonly ts.SymbolDisplayPart[] | undefined,
  tags: readonly ts.JSDocTagInfo[] | undefined,
  source?: string,
): { plain: string; markdown: string } {
  const doc = ts.displayPartsToString(documentation ? [...documentation] : undefined).trim();
  const plainTags = tagLines(tags);
  const plainSections = [signature];
  if (doc) plainSections.push(doc);
  if (plainTags.length > 0) plainSections.push(plainTags.join('\n'));
  if (source) plainSections.push(`Source:\n${source}`);

  const markdownSections = ['```typescript\n' + signature + '\n```'];
  if (doc) markdownSections.push(doc);
  if (tags && tags.length > 0) markdownSections.push(tags.map(markdownTag).join('  \n'));
  if (source) markdownSections.push('Source:\n\n```typescript\n' + source + '\n```');
  return { plain: plainSections.join('\n\n'), markdown: markdownSections.join('\n\n') };
}

/** Maps a TypeScript `ScriptElementKind` to the completion type shown by Jupyter frontends. */
export function completionType(kind: string): string {
  switch (kind) {
    case 'var':
    case 'let':
    case 'const':
    case 'local var':
    case 'using':
    case 'await using':
    case 'parameter':
      return 'variable';
    case 'function':
    case 'local function':
      return 'function';
    case 'method':
    case 'construct':
    case 'call':
    case 'index':
      return 'method';
    case 'property':
    case 'getter':
    case 'setter':
    case 'accessor':
    case 'JSX attribute':
      return 'property';
    case 'class':
    case 'local class':
      return 'class';
    case 'interface':
      return 'interface';
    case 'type':
    case 'type parameter':
    case 'primitive type':
      return 'type';
    case 'enum':
      return 'enum';
    case 'enum member':
      return 'enum member';
    case 'module':
    case 'external module name':
      return 'module';
    case 'directory':
    case 'script':
      return 'path';
    case 'keyword':
      return 'keyword';
    case 'string':
      return 'string';
    default:
      return kind || 'text';
  }
}

/** Completion type of the symbol an import alias (e.g. a name from an earlier cell) points to. */
export function aliasTargetType(checker: ts.TypeChecker, alias: ts.Symbol): string {
  let target: ts.Symbol;
  try {
    target = checker.getAliasedSymbol(alias);
  } catch {
    return 'variable';
  }
  const flags = target.flags;
  if (flags & ts.SymbolFlags.Class) return 'class';
  if (flags & ts.SymbolFlags.Function) return 'function';
  if (flags & ts.SymbolFlags.Enum) return 'enum';
  if (flags & ts.SymbolFlags.Variable) return 'variable';
  if (flags & ts.SymbolFlags.Module) return 'module';
  if (flags & ts.SymbolFlags.Interface) return 'interface';
  if (flags & ts.SymbolFlags.TypeAlias) return 'type';
  return 'variable';
}
