/**
 * A magic's YAML body → a validated config object, or one error listing every problem with the
 * cell line, the key path, what was expected and the closest known key. Validation is JSON Schema
 * (draft 2020-12, Ajv) so the same schemas serve editors and templates; this file turns Ajv's
 * JSON-Pointer errors back into positions in the YAML text.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { editDistance } from '@hyperlab/kernel/magics';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { canonicalizeKeys } from './key-aliases.js';
import { interpolate, type ResolveReference } from './interpolation.js';

/** A JSON Schema object (draft 2020-12). */
export type JsonSchema = Record<string, unknown>;

/** One problem in a config body. */
export interface ConfigIssue {
  /** 1-based cell line; 0 where the config has no cell (a sweep trial's, built from base and space). */
  line: number;
  /** 1-based column. */
  column: number;
  /** The key path, `adapter.r` or `data.digits[2]` ('' for the whole body). */
  path: string;
  /** What is wrong, without the position. */
  message: string;
}

/** A config body that did not parse or validate; the message lists every issue with its line. */
export class ConfigError extends Error {
  /** `subject`: whose config it is, for the message (`a sweep trial's config`). */
  constructor(readonly magic: string, readonly issues: ConfigIssue[], subject = 'the config') {
    super(`%%${magic}: ${issues.length === 1 ? 'a problem' : `${issues.length} problems`} in ${subject}:\n${issues.map((issue) => `  ${issue.line > 0 ? `cell line ${issue.line}: ` : ''}${issue.message}`).join('\n')}`);
    this.name = 'ConfigError';
    // The issues say where the problem is; the magic's own frames would only be noise.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Bad arguments or input to a magic: shown as its message alone, without the magic's stack frames. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Where a body sits in its cell. */
export interface BodyPosition {
  /** The magic's name, for messages. */
  magic: string;
  /** 1-based cell line of the body's first line. */
  firstLine: number;
}

/** A parsed body that can say where each key path is. */
export interface ParsedBody {
  /** The plain value. */
  value: unknown;
  /** Cell line and column of the value (or key, with `key: true`) at a JSON path. */
  locate(path: Array<string | number>, key?: boolean): { line: number; column: number };
  /** Keys written in snake_case, by their canonical path (`adapter.loraAlpha` → `lora_alpha`). */
  aliases: Map<string, string>;
}

/** Options of {@link parseYamlBody}. */
export interface ParseOptions {
  /**
   * Resolves `${name}` references (see `interpolation.ts`), typically from notebook variables.
   * Without it, `${…}` stays as written.
   */
  resolve?: ResolveReference;
}

/**
 * Parses YAML, reporting syntax errors (and duplicate keys) with cell lines; snake_case keys
 * become their camelCase aliases (`key-aliases.ts`), and with `options.resolve` every `${name}`
 * is replaced by the variable's value.
 */
export async function parseYamlBody(body: string, where: BodyPosition, options: ParseOptions = {}): Promise<ParsedBody> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(body, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: where.firstLine + pos.line - 1, column: pos.col };
  };
  if (doc.errors.length > 0) {
    // One syntax error cascades into dozens; the first says where it went wrong.
    const error = doc.errors[0];
    const first = at(error.pos[0]);
    const lineText = body.split('\n')[first.line - where.firstLine] ?? '';
    const hint = /\{[^}]*\$\{/.test(lineText) ? " (a ${name} inside a { … } flow mapping is read as YAML's own braces: quote it, '${name}', or write the mapping as indented lines)" : '';
    const more = doc.errors.length > 1 ? ` (${doc.errors.length - 1} more YAML errors follow from it)` : '';
    throw new ConfigError(where.magic, [{ ...first, path: '', message: `YAML: ${error.message.split('\n')[0]}${hint}${more}` }]);
  }
  const { aliases, duplicates } = canonicalizeKeys(doc);
  const problems: ConfigIssue[] = duplicates.map((d) => ({ ...at(d.offset), path: d.canonical, message: `"${d.written}" and "${d.canonical}" are the same key (snake_case is an alias of camelCase); give it once` }));
  if (options.resolve) {
    for (const problem of await interpolate(doc, options.resolve)) problems.push({ ...at(problem.offset), path: '', message: problem.message });
  }
  if (problems.length > 0) throw new ConfigError(where.magic, problems.sort((a, b) => a.line - b.line));
  const start = { line: where.firstLine, column: 1 };
  const locate = (path: Array<string | number>, key = false): { line: number; column: number } => {
    const found = nodeAt(doc, path, key);
    return found?.range ? at(found.range[0]) : start;
  };
  const aliasByPath = new Map<string, string>();
  for (const alias of aliases) {
    const path = pathOfKeyAt(doc, alias.offset);
    if (path) aliasByPath.set(formatPath(path), alias.written);
  }
  return { value: doc.toJS({ maxAliasCount: 100 }) ?? {}, locate, aliases: aliasByPath };
}

/** The key path of the mapping key that starts at `offset`. */
function pathOfKeyAt(doc: Document, offset: number): Array<string | number> | undefined {
  const walk = (node: Node | null | undefined, path: Array<string | number>): Array<string | number> | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const here = [...path, String(pair.key.value)];
        if ((pair.key as Node).range?.[0] === offset) return here;
        const inner = walk(pair.value as Node | null, here);
        if (inner) return inner;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const inner = walk(node.items[i] as Node | null, [...path, i]);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return walk(doc.contents as Node | null, []);
}

/** The deepest node on `path` (the key node of the last step when `key`). */
function nodeAt(doc: Document, path: Array<string | number>, key: boolean): Node | undefined {
  let node = doc.contents as Node | null;
  let found: Node | undefined = node ?? undefined;
  for (let i = 0; i < path.length && node; i++) {
    const step = path[i];
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(step));
      if (!pair) return found;
      if (key && i === path.length - 1) return (pair.key as Node) ?? found;
      node = (pair.value as Node | null) ?? null;
      found = (node ?? (pair.key as Node)) || found;
    } else if (isSeq(node)) {
      node = (node.items[Number(step)] as Node | undefined) ?? null;
      if (node) found = node;
    } else return found;
  }
  return found;
}

/** `adapter.r`, `data.digits[2]`. */
export function formatPath(path: Array<string | number>): string {
  return path.reduce<string>((out, step) => (typeof step === 'number' ? `${out}[${step}]` : out ? `${out}.${step}` : step), '');
}

/** The candidate closest to `name` when it is close enough to be a likely typo (case and `_` ignored). */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const norm = (text: string): string => text.toLowerCase().replace(/[_-]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(norm(name), norm(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value).slice(0, 40)})`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
};

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function validator(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true, verbose: true });
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

const pointerPath = (pointer: string): Array<string | number> =>
  pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));

/** Turns one Ajv error into an issue (undefined for errors that only echo others). */
function issueOf(error: ErrorObject, parsed: ParsedBody): ConfigIssue | undefined {
  const path = pointerPath(error.instancePath);
  const shown = formatPath(path) || 'the config';
  const parentSchema = (error.parentSchema ?? {}) as JsonSchema;
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String((error.params as { additionalProperty: string }).additionalProperty);
      const written = parsed.aliases.get(formatPath([...path, extra])) ?? extra;
      const known = Object.keys((parentSchema.properties as JsonSchema | undefined) ?? {});
      const suggestion = closest(written, known);
      const where = parsed.locate([...path, extra], true);
      const inside = path.length ? ` in ${shown}` : '';
      const hint = suggestion ? ` — did you mean "${suggestion}"?` : known.length ? ` (known keys: ${known.join(', ')})` : '';
      return { ...where, path: formatPath([...path, written]), message: `unknown key "${written}"${inside}${hint}` };
    }
    case 'required': {
      const missing = String((error.params as { missingProperty: string }).missingProperty);
      const property = ((parentSchema.properties as Record<string, JsonSchema> | undefined) ?? {})[missing];
      const expected = property?.description ? ` (${String(property.description)})` : '';
      return { ...parsed.locate(path, path.length > 0), path: formatPath([...path, missing]), message: `${shown} is missing the required key "${missing}"${expected}` };
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const suggestion = typeof error.data === 'string' ? closest(error.data, allowed.map(String)) : undefined;
      return {
        ...parsed.locate(path),
        path: formatPath(path),
        message: `${shown} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}; got ${describe(error.data)}${suggestion ? ` — did you mean "${suggestion}"?` : ''}`,
      };
    }
    case 'if':
      return undefined;
    default: {
      const expected = parentSchema.description ? String(parentSchema.description) : (error.message ?? 'is invalid').replace(/^must /, '');
      const verb = parentSchema.description ? 'must be' : 'must';
      return { ...parsed.locate(path), path: formatPath(path), message: `${shown} ${verb} ${expected}; got ${describe(error.data)}` };
    }
  }
}

/**
 * Validates `value` against `schema`, filling in defaults (so the result is the complete config a
 * run record stores). Throws {@link ConfigError} with one issue per offending key: where a value
 * fails an `anyOf`/`oneOf`, the alternatives' own errors are folded into one "must be <description>".
 */
export function validateBody<T>(parsed: ParsedBody, schema: JsonSchema, where: BodyPosition): T {
  const validate = validator(schema);
  const value = parsed.value;
  if (validate(value)) return value as T;
  const errors = validate.errors ?? [];
  // Paths where a composite (anyOf/oneOf) failed: its branches' errors at or under it are noise.
  const composite = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath);
  const kept = errors.filter((e) => {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') return !composite.some((p) => p !== e.instancePath && e.instancePath.startsWith(`${p}/`));
    return !composite.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`));
  });
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of kept) {
    const issue = issueOf(error, parsed);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  throw new ConfigError(where.magic, issues.length ? issues : [{ line: where.firstLine, column: 1, path: '', message: 'the config is invalid' }]);
}

/** A cross-field problem found after schema validation, at a key path of the body. */
export function configIssue(parsed: ParsedBody, path: Array<string | number>, message: string): ConfigIssue {
  return { ...parsed.locate(path), path: formatPath(path), message: `${formatPath(path)}: ${message}` };
}
