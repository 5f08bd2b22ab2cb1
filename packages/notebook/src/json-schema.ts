/**
 * Compiling a JSON Schema with the Ajv class that matches its `$schema` draft.
 *
 * Ajv 8 validates drafts 06, 07 (class `Ajv`), 2019-09 (`Ajv2019`) and 2020-12 (`Ajv2020`). It
 * dropped draft-04, which is what nbformat's schemas declare, and the separate `ajv-draft-04`
 * package is not a dependency here; so a draft-04 schema is first rewritten as draft-07
 * ({@link draft04To07}). The rewrite is exact: draft-04 and draft-07 differ only in the spelling
 * of `id` (→ `$id`) and in boolean `exclusiveMinimum`/`exclusiveMaximum` (→ numbers), and every
 * other keyword draft-04 has means the same in draft-07.
 *
 * Formats are not asserted (`validateFormats: false`), as Python's `jsonschema` does not assert
 * them without a format checker, and `strict: false` accepts the annotations schemas carry.
 */
import Ajv, { type AnySchemaObject } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';

/** The drafts this module knows. */
export type SchemaDraft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

/** The draft a schema declares in `$schema` (draft-07, Ajv's default, when it declares none). */
export function schemaDraft(schema: AnySchemaObject): SchemaDraft {
  const uri = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (uri === '') return 'draft-07';
  for (const draft of ['draft-04', 'draft-06', 'draft-07', '2019-09', '2020-12'] as const) {
    if (uri.includes(`/${draft}/`)) return draft;
  }
  throw new Error(`unsupported JSON Schema draft ${JSON.stringify(uri)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A draft-04 schema rewritten as draft-07 (see the module documentation); the input is not changed. */
export function draft04To07(schema: AnySchemaObject): AnySchemaObject {
  const convert = (node: unknown): unknown => {
    if (!isObject(node)) return node;
    const out: Record<string, unknown> = { ...node };
    if (typeof out.id === 'string' && out.$id === undefined) {
      out.$id = out.id;
      delete out.id;
    }
    for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (out[exclusive] === true) {
        out[exclusive] = out[bound];
        delete out[bound];
      } else if (out[exclusive] === false) delete out[exclusive];
    }
    for (const key of ['properties', 'patternProperties', 'definitions']) {
      if (isObject(out[key])) out[key] = Object.fromEntries(Object.entries(out[key]).map(([k, v]) => [k, convert(v)]));
    }
    if (isObject(out.dependencies)) {
      out.dependencies = Object.fromEntries(Object.entries(out.dependencies).map(([k, v]) => [k, Array.isArray(v) ? v : convert(v)]));
    }
    for (const key of ['items', 'allOf', 'anyOf', 'oneOf']) {
      if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(convert);
    }
    for (const key of ['items', 'additionalItems', 'additionalProperties', 'not']) {
      if (isObject(out[key])) out[key] = convert(out[key]);
    }
    return out;
  };
  const converted = convert(schema) as AnySchemaObject;
  converted.$schema = 'http://json-schema.org/draft-07/schema#';
  return converted;
}

/**
 * An Ajv instance for `schema`'s draft, with `schema` added under `id`; returns the instance and
 * the schema as added (draft-04 rewritten). `ajv.getSchema(id)` and `ajv.getSchema(id +
 * '#/definitions/x')` then compile the whole schema or one definition.
 */
export function ajvFor(schema: AnySchemaObject, id: string): { ajv: Ajv; draft: SchemaDraft } {
  const draft = schemaDraft(schema);
  const options = { strict: false, allErrors: true, validateFormats: false } as const;
  let ajv: Ajv;
  let added = schema;
  switch (draft) {
    case '2019-09':
      ajv = new Ajv2019(options);
      break;
    case '2020-12':
      ajv = new Ajv2020(options);
      break;
    case 'draft-06':
      ajv = new Ajv(options);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
      break;
    case 'draft-04':
      ajv = new Ajv(options);
      added = draft04To07(schema);
      break;
    default:
      ajv = new Ajv(options);
  }
  const { $id: _ignored, ...rest } = added;
  ajv.addSchema({ ...rest, $id: id });
  return { ajv, draft };
}
