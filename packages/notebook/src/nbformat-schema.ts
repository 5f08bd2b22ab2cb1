/**
 * Validation against the official nbformat JSON schema, found at run time inside the Python
 * `nbformat` package (see `python.ts`): `nbformat/v4/nbformat.v4.<minor>.schema.json` for the
 * notebook's `nbformat_minor`, else the newest v4 schema there. Each schema file is compiled once
 * per process.
 *
 * Ajv reports every failing branch of a `oneOf`, so a bad code cell would also be reported as a
 * bad raw and markdown cell. As Python nbformat's `better_validation_error` does, a failing cell
 * or output is therefore re-validated against the one definition its `cell_type` / `output_type`
 * names (`code_cell`, `stream`, …), and only that definition's errors are reported.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Ajv from 'ajv';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import { ajvFor, type SchemaDraft } from './json-schema.js';
import { escapePointerSegment } from './json-position.js';
import { describeValue, type NotebookError } from './nbformat.js';
import { jupyterPython, type PythonLookup } from './python.js';

/** The official schema chosen for a notebook. */
export interface OfficialSchema {
  /** The schema file. */
  file: string;
  /** The nbformat minor version it describes. */
  minor: number;
  /** It is the schema of the notebook's own minor version (false: the newest was used instead). */
  exact: boolean;
  /** The `$schema` draft it declares. */
  draft: SchemaDraft;
  /** The Python nbformat package's version. */
  nbformatVersion: string | null;
  /** Validates a notebook; problems with JSON Pointers, empty when valid. */
  validate(nb: unknown): NotebookError[];
}

/** The v4 schema files in an nbformat package folder: minor → file. */
export function schemaFiles(nbformatDir: string): Map<number, string> {
  const dir = path.join(nbformatDir, 'v4');
  const files = new Map<number, string>();
  for (const name of fs.readdirSync(dir)) {
    const m = /^nbformat\.v4\.(\d+)\.schema\.json$/.exec(name);
    if (m) files.set(Number(m[1]), path.join(dir, name));
  }
  return files;
}

/** The schema file for `minor` (exact), else the newest one. Throws when there is none. */
export function schemaFileFor(nbformatDir: string, minor: number): { file: string; minor: number; exact: boolean } {
  const files = schemaFiles(nbformatDir);
  if (files.size === 0) throw new Error(`no nbformat.v4.<minor>.schema.json in ${path.join(nbformatDir, 'v4')}`);
  const exact = files.get(minor);
  if (exact) return { file: exact, minor, exact: true };
  const newest = Math.max(...files.keys());
  return { file: files.get(newest)!, minor: newest, exact: false };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let v: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(v)) v = v[Number(key)];
    else if (isObject(v)) v = v[key];
    else return undefined;
  }
  return v;
}

const under = (p: string, base: string): boolean => p === base || p.startsWith(`${base}/`);

const DISCRIMINATORS = ['cell_type', 'output_type'] as const;

/**
 * The key that says which definition a cell or output follows, and that definition's name
 * (`code_cell`, `stream`), when `value` is an object that has the key, or lacks it while the
 * schema requires it (`missing`).
 */
function discriminated(value: unknown, errors: ErrorObject[], at: string): { key: string; definition?: string } | undefined {
  if (!isObject(value)) return undefined;
  for (const key of DISCRIMINATORS) {
    if (!(key in value)) continue;
    const v = value[key];
    return { key, ...(typeof v === 'string' ? { definition: key === 'cell_type' ? `${v}_cell` : v } : {}) };
  }
  const missing = errors.find((e) => e.keyword === 'required' && e.instancePath === at && (DISCRIMINATORS as readonly unknown[]).includes((e.params as { missingProperty?: unknown }).missingProperty));
  return missing ? { key: String((missing.params as { missingProperty: string }).missingProperty) } : undefined;
}

/** Ajv errors as NotebookErrors: required/additional properties point at the property; type errors at one path merged. */
function describeErrors(errors: ErrorObject[], root: unknown, base: string): NotebookError[] {
  const out: NotebookError[] = [];
  const types = new Map<string, string[]>();
  for (const e of errors) {
    const at = base + e.instancePath;
    const params = e.params as Record<string, unknown>;
    const got = () => `, got ${describeValue(valueAt(root, e.instancePath))}`;
    switch (e.keyword) {
      case 'oneOf':
      case 'anyOf':
        if (!errors.some((o) => o !== e && under(o.instancePath, e.instancePath))) out.push({ path: at, message: `${e.message ?? e.keyword}${got()}` });
        break;
      case 'type': {
        // One oneOf branch took the value's type and failed deeper: that deeper error is the news.
        if (errors.some((o) => o.instancePath.startsWith(`${e.instancePath}/`))) break;
        const list = types.get(at) ?? [];
        if (list.length === 0) out.push({ path: at, message: '' }); // placeholder, filled below
        list.push(...[params.type].flat().map(String));
        types.set(at, list);
        break;
      }
      case 'required':
        out.push({ path: `${at}/${escapePointerSegment(String(params.missingProperty))}`, message: 'is required but missing' });
        break;
      case 'additionalProperties':
        out.push({ path: `${at}/${escapePointerSegment(String(params.additionalProperty))}`, message: 'is not allowed here (no such property in the schema)' });
        break;
      case 'enum':
        out.push({ path: at, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got()}` });
        break;
      default:
        out.push({ path: at, message: `${e.message ?? e.keyword}${got()}` });
    }
  }
  for (const error of out) {
    if (error.message === '') {
      const list = [...new Set(types.get(error.path))];
      error.message = `must be ${list.join(' or ')}, got ${describeValue(valueAt(root, error.path.slice(base.length)))}`;
    }
  }
  const seen = new Set<string>();
  return out.filter((e) => {
    const key = `${e.path}\n${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

class CompiledSchema {
  private readonly definitions = new Map<string, ValidateFunction | undefined>();
  readonly whole: ValidateFunction;

  constructor(
    private readonly ajv: Ajv,
    private readonly id: string,
    private readonly schema: AnySchemaObject,
  ) {
    this.whole = ajv.getSchema(id)!;
  }

  private definition(name: string): ValidateFunction | undefined {
    if (!this.definitions.has(name)) {
      const defs = this.schema.definitions as Record<string, unknown> | undefined;
      this.definitions.set(name, defs && Object.hasOwn(defs, name) ? this.ajv.getSchema(`${this.id}#/definitions/${name}`) : undefined);
    }
    return this.definitions.get(name);
  }

  /** The values a discriminator may take: every definition's `properties[key].enum`, in schema order. */
  private allowedValues(key: string): unknown[] {
    const values: unknown[] = [];
    for (const def of Object.values((this.schema.definitions ?? {}) as Record<string, unknown>)) {
      const allowed = isObject(def) && isObject(def.properties) && isObject(def.properties[key]) ? (def.properties[key] as Record<string, unknown>).enum : undefined;
      if (Array.isArray(allowed)) values.push(...allowed);
    }
    return values;
  }

  /** Validates `value` with `validate`; failing cells/outputs are explained by their own definition. */
  explain(validate: ValidateFunction, value: unknown, base: string): NotebookError[] {
    if (validate(value)) return [];
    const errors = [...(validate.errors ?? [])];
    const points = [...new Set(errors.filter((e) => e.keyword === 'oneOf' && e.instancePath !== '' && discriminated(valueAt(value, e.instancePath), errors, e.instancePath)).map((e) => e.instancePath))];
    const outermost = points.filter((p) => !points.some((q) => q !== p && under(p, q)));
    const plain = errors.filter((e) => !outermost.some((p) => under(e.instancePath, p)));
    const result = describeErrors(plain, value, base);
    for (const point of outermost) {
      const item = valueAt(value, point) as Record<string, unknown>;
      const { key, definition } = discriminated(item, errors, point)!;
      const sub = definition === undefined ? undefined : this.definition(definition);
      if (sub) {
        result.push(...this.explain(sub, item, base + point));
        continue;
      }
      const allowed = this.allowedValues(key).map((v) => JSON.stringify(v)).join(', ');
      const problem = key in item ? `must be one of ${allowed}, got ${describeValue(item[key])}` : `is required but missing (one of ${allowed})`;
      result.push({ path: `${base}${point}/${key}`, message: problem });
    }
    return result;
  }
}

const compiled = new Map<string, { compiled: CompiledSchema; draft: SchemaDraft }>();

/** The compiled schema of `file`, compiled on first use and kept (exported for its test). */
export function compile(file: string): { compiled: CompiledSchema; draft: SchemaDraft } {
  let entry = compiled.get(file);
  if (!entry) {
    const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as AnySchemaObject;
    const id = `urn:hyperlab:nbformat:${path.basename(file)}`;
    const { ajv, draft } = ajvFor(schema, id);
    entry = { compiled: new CompiledSchema(ajv, id, schema), draft };
    compiled.set(file, entry);
  }
  return entry;
}

/** Cell ids must be unique (nbformat's validator checks this beside the schema). */
function duplicateIds(nb: unknown): NotebookError[] {
  if (!isObject(nb) || !Array.isArray(nb.cells)) return [];
  const seen = new Map<string, number>();
  const errors: NotebookError[] = [];
  nb.cells.forEach((cell, i) => {
    if (!isObject(cell) || typeof cell.id !== 'string') return;
    const first = seen.get(cell.id);
    if (first !== undefined) errors.push({ path: `/cells/${i}/id`, message: `cell id ${JSON.stringify(cell.id)} is not unique (also cell ${first})` });
    else seen.set(cell.id, i);
  });
  return errors;
}

/**
 * The official schema for a notebook of `nbformat_minor` = `minor`, compiled (once per file), or
 * why it is unavailable (no Python, no nbformat package, unreadable or unsupported schema).
 */
export function officialSchema(minor: number, lookup: PythonLookup = jupyterPython()): OfficialSchema | { unavailable: string } {
  if (!lookup.found) return { unavailable: lookup.reason };
  const { info } = lookup;
  if (!info.nbformatDir) return { unavailable: `${info.python} (from ${info.source}) has no nbformat package` };
  try {
    const chosen = schemaFileFor(info.nbformatDir, minor);
    const { compiled: schema, draft } = compile(chosen.file);
    return {
      ...chosen,
      draft,
      nbformatVersion: info.nbformatVersion,
      validate: (nb) => [...schema.explain(schema.whole, nb, ''), ...duplicateIds(nb)],
    };
  } catch (error) {
    return { unavailable: `the nbformat schema in ${info.nbformatDir} cannot be used: ${(error as Error).message}` };
  }
}
