/**
 * Table-driven validation of adapter configs. Each method declares its fields once (type check,
 * description for messages, default); {@link validateConfig} fills the defaults and rejects, with
 * one clear message, an unknown key (suggesting the closest known one: `lora_alpha` → `loraAlpha`),
 * a value of the wrong type (naming the key and the expected type) or a missing required key.
 * Names follow Hugging Face PEFT in camelCase.
 */

/** How one config field is checked. */
export interface FieldSpec {
  /** What the value must be, as it reads in an error message ("a positive integer"). */
  expected: string;
  /** True when `value` is acceptable. */
  check: (value: unknown) => boolean;
  /** The default; a field without one (and not `optional`) is required. */
  default?: unknown;
  /** Optional with no default (left undefined). */
  optional?: boolean;
  /**
   * The same check as a JSON Schema fragment (draft 2020-12), so editors and the experiment magics
   * can validate YAML configs and offer templates (see {@link configJsonSchema}).
   */
  json: Record<string, unknown>;
}

/** The fields of a config, by camelCase name. */
export type ConfigSchema = Record<string, FieldSpec>;

/**
 * Which modules an adapter targets: names matched against the end of the module path (PEFT's
 * list form: `['q_proj', 'v_proj']`, or `'layers.0.q_proj'`), globs (`'*.q_proj'`, `'**.linear?'`),
 * a string taken as a regular expression matching the whole path (PEFT's string form), or a RegExp.
 */
export type TargetModules = string | RegExp | string[];

/** Fields every injected adapter's config has. */
export interface BaseAdapterConfig {
  /** Which method (`'lora'`, `'dora'`, `'vera'`, `'ia3'`). */
  method: string;
  /** Modules to adapt (see {@link TargetModules}). */
  targetModules: TargetModules;
  /** Modules (same matching rules as a list `targetModules`) whose own params are trained in full. */
  modulesToSave: string[];
}

const typeName = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : value instanceof RegExp ? 'RegExp' : typeof value);

/** Field checks shared by the methods. */
export const fields = {
  positiveInt: (def?: number): FieldSpec => ({ expected: 'a positive integer', check: (v) => Number.isInteger(v) && (v as number) > 0, default: def, json: { type: 'integer', minimum: 1 } }),
  integer: (def?: number): FieldSpec => ({ expected: 'an integer', check: (v) => Number.isInteger(v), default: def, json: { type: 'integer' } }),
  number: (def?: number): FieldSpec => ({ expected: 'a finite number', check: (v) => typeof v === 'number' && Number.isFinite(v), default: def, json: { type: 'number' } }),
  probability: (def?: number): FieldSpec => ({
    expected: 'a number in [0, 1)',
    check: (v) => typeof v === 'number' && v >= 0 && v < 1,
    default: def,
    json: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
  }),
  boolean: (def?: boolean): FieldSpec => ({ expected: 'a boolean', check: (v) => typeof v === 'boolean', default: def, json: { type: 'boolean' } }),
  oneOf: (values: readonly unknown[], def?: unknown): FieldSpec => ({
    expected: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    check: (v) => values.includes(v),
    default: def,
    json: { enum: [...values] },
  }),
  stringList: (def?: string[]): FieldSpec => ({
    expected: 'an array of strings',
    check: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
    default: def,
    json: { type: 'array', items: { type: 'string' } },
  }),
  string: (def?: string): FieldSpec => ({ expected: 'a string', check: (v) => typeof v === 'string', default: def, json: { type: 'string' } }),
  targets: (): FieldSpec => ({
    expected: 'a non-empty array of module names/globs, a regex string, or a RegExp',
    check: (v) => v instanceof RegExp || (typeof v === 'string' && v.length > 0) || (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0)),
    json: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] },
  }),
  /** Always this value (fields kept for PEFT compatibility that HyperLab does not vary). */
  fixed: (value: unknown, why: string): FieldSpec => ({ expected: `${JSON.stringify(value)} (${why})`, check: (v) => v === value, default: value, json: { const: value } }),
};

/**
 * A config table as a JSON Schema object (draft 2020-12): each field's fragment with its default,
 * `expected` as the description, required fields, and no other keys.
 */
export function configJsonSchema(schema: ConfigSchema, title?: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    properties[key] = { ...spec.json, description: spec.expected, ...(spec.default !== undefined ? { default: spec.default } : {}) };
    if (spec.default === undefined && !spec.optional) required.push(key);
  }
  return { type: 'object', ...(title ? { title } : {}), properties, required, additionalProperties: false };
}

/** Edit distance (Levenshtein), for suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known key closest to `key` (ignoring case and `_`, so snake_case finds camelCase), if close. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(norm(key), norm(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Checks `raw` against `schema` and returns it with defaults filled in. Throws one error naming
 * every problem, each as `unknown key 'lora_alpha' in LoraConfig — did you mean 'loraAlpha'?`,
 * `LoraConfig.r must be a positive integer, got "8" (string)` or `LoraConfig.targetModules is required`.
 */
export function validateConfig<T>(configName: string, schema: ConfigSchema, raw: unknown): T {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`${configName} must be an object, got ${typeName(raw)}`);
  const input = raw as Record<string, unknown>;
  const known = Object.keys(schema);
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (key in schema) continue;
    const suggestion = closestKey(key, known);
    problems.push(`unknown key '${key}' in ${configName}${suggestion ? ` — did you mean '${suggestion}'?` : ` (known: ${known.join(', ')})`}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = input[key];
    if (value === undefined) {
      if (spec.default !== undefined) out[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      else if (!spec.optional) problems.push(`${configName}.${key} is required (${spec.expected})`);
      continue;
    }
    if (!spec.check(value)) {
      const shown = value instanceof RegExp ? String(value) : JSON.stringify(value);
      problems.push(`${configName}.${key} must be ${spec.expected}, got ${shown} (${typeName(value)})`);
      continue;
    }
    out[key] = Array.isArray(value) ? [...value] : value;
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return out as T;
}

/** Fields common to every injected method. */
export function baseFields(method: string): ConfigSchema {
  return {
    method: fields.fixed(method, 'the method'),
    targetModules: fields.targets(),
    modulesToSave: fields.stringList([]),
  };
}

/**
 * A HyperLab config object from PEFT's `adapter_config.json` fields: `method`, `targetModules` and
 * `modulesToSave` always, then every field of `fields` (PEFT name → HyperLab name) that is present
 * and not null; absent fields take HyperLab's defaults when the config is validated.
 */
export function configFromPeft(method: string, json: Record<string, unknown>, fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = { method, targetModules: json.target_modules, modulesToSave: json.modules_to_save ?? [] };
  for (const [peft, ours] of Object.entries(fields)) if (json[peft] !== undefined && json[peft] !== null) out[ours] = json[peft];
  return out;
}
