/**
 * Run records (`hyperlab.run/v1`): one training run as plain JSON — what was run (config, seed,
 * backend, data fingerprints), what came out (final metrics, curves), where and how fast
 * (environment, timings) — with a content hash over the reproducible parts, so a re-run can be
 * checked against the record (see `compare.ts`). The JSON Schema is
 * `packages/core/schema/run-record.v1.schema.json` (draft 2020-12).
 *
 * ## What `contentHash` covers
 *
 * `contentHash` is the lower-case hex SHA-256 of the UTF-8 bytes of {@link canonicalJson} applied
 * to exactly this object ({@link hashedContent}):
 *
 * ```text
 * { schema: 'hyperlab.run/v1', config, seed, backend: backend.name,
 *   data: [fingerprint of each data entry, in record order], metrics, curves, outcome }
 * ```
 *
 * (`outcome` only when the record has one, so records without it hash as they always did.)
 *
 * Not hashed: `id`, `name`, `createdAt`, `backend.reason` / `simd` / `threads` / `steps`, `environment`
 * (node, platform, package versions), data `name` and `size`, `timings`. So two runs of the same
 * configuration, seed, backend and data that produce the same numbers have the same hash whenever
 * and wherever they ran.
 *
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined` members
 * dropped, strings as `JSON.stringify` writes them, and numbers by {@link canonicalNumber}: safe
 * integers exactly; any other number is first rounded to float32 (`Math.fround`) and written as the
 * shortest decimal that rounds back to that float32 — so identical float32 values (however they
 * were carried, as float32 or widened to double) give identical text. Non-finite metric and curve
 * values are stored as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` and hashed as such.
 */
import type * as BackendModule from '../backend/backend.js';
import type * as GraphStepModule from '../backend/graph-step.js';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { TrainHistory } from '../train/loop.js';

/** The MIME type of a serialised run record. */
export const RUN_RECORD_MIME = 'application/vnd.hyperlab.run.v1+json';

/** The value of a v1 record's `schema` field. */
export const RUN_RECORD_SCHEMA = 'hyperlab.run/v1';

/** A number as stored in metrics and curves: finite, or a non-finite value spelled as a string. */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** JSON values (what `config` may contain). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The backend a run used. */
export interface RunBackend {
  /** backend name (`wasm`, `cpu`, `node`); hashed. */
  name: string;
  /** Why it was chosen (human-readable); not hashed. */
  reason: string;
  /** WASM SIMD in use; not hashed. */
  simd?: boolean;
  /** Threads in use; not hashed. */
  threads?: number;
  /**
   * On the native backend: whether `train()` may compile its steps to TensorFlow graphs
   * (`compiled`) or runs them op by op (`eager`, `HYPERLAB_COMPILE=0`). The two round differently,
   * so `compareRecords` treats them as different backends. Not hashed; absent in older records.
   */
  steps?: 'compiled' | 'eager';
}

/** Where a run happened. */
export interface RunEnvironment {
  /** `process.version`. */
  node: string;
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
  /** Package name → version. */
  packages: Record<string, string>;
}

/** A data set a run used. */
export interface RunData {
  /** Name or role (`mnist/train`); not hashed. */
  name: string;
  /** SHA-256 of the data, lower-case hex (see {@link fingerprint}); hashed. */
  fingerprint: string;
  /** Number of examples; not hashed. */
  size: number;
}

/** A curve: step numbers and values of equal length. */
export interface Curve {
  /** Step numbers (integers ≥ 0). */
  step: number[];
  /** Values at those steps. */
  value: JsonNumber[];
}

/** Timings in milliseconds (and any other numeric timing, e.g. examplesPerSecond); not hashed. */
export interface RunTimings {
  /** Total wall-clock time. */
  totalMs: number;
  /** Median time per step. */
  msPerStep?: number;
  /** Other timings. */
  [name: string]: number | undefined;
}

/** A `hyperlab.run/v1` record. */
export interface RunRecord {
  /** Format tag. */
  schema: typeof RUN_RECORD_SCHEMA;
  /** Unique id. */
  id: string;
  /** Optional human-readable name. */
  name?: string;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** The run's configuration. */
  config: { [key: string]: JsonValue };
  /** The seed (as given to `Rng`). */
  seed: number | string;
  /** The backend. */
  backend: RunBackend;
  /** Where it ran. */
  environment: RunEnvironment;
  /** The data it used. */
  data: RunData[];
  /** Final metrics. */
  metrics: Record<string, JsonNumber>;
  /** Curves (loss, lr, evaluated metrics) by name. */
  curves: Record<string, Curve>;
  /** Timings. */
  timings: RunTimings;
  /**
   * Structured results beyond metrics and curves, when a run has them: a sweep's trials (each with
   * its own run record) and its algorithm's decisions. Hashed, and compared by `verify`.
   */
  outcome?: { [key: string]: JsonValue };
  /** SHA-256 hex of the canonical reproducible content (see the module documentation). */
  contentHash: string;
}

/** What {@link createRunRecord} needs; the rest is filled in. */
export interface RunRecordParts {
  /** Record id; default a random UUID. */
  id?: string;
  /** Human-readable name. */
  name?: string;
  /** Creation time; default now. */
  createdAt?: string | Date;
  /** The configuration: any JSON-serialisable object (it is copied through JSON). */
  config: Record<string, unknown>;
  /** The seed. */
  seed: number | string;
  /** The backend used; default the current one, from {@link backendInfo}. */
  backend?: RunBackend;
  /** Data sets used. Default none. */
  data?: RunData[];
  /** Final metrics; non-finite values are encoded as strings. Default none. */
  metrics?: Record<string, number>;
  /** Curves; values may be typed arrays; non-finite values are encoded as strings. Default none. */
  curves?: Record<string, { step: ArrayLike<number>; value: ArrayLike<number> }>;
  /** Timings (e.g. a `TrainResult`'s); non-finite entries are dropped. */
  timings: { totalMs: number; msPerStep?: number; [name: string]: number | undefined };
  /** Overrides of the detected environment; `packages` are merged into the detected versions. */
  environment?: Partial<RunEnvironment>;
  /** Structured results (a sweep's trials and decisions); copied through JSON. */
  outcome?: Record<string, unknown>;
}

/** A validation problem: a JSON Pointer into the record (`/backend/name`) and what is wrong. */
export interface RunRecordError {
  /** JSON Pointer of the offending value ('' is the whole record). */
  path: string;
  /** What is wrong there. */
  message: string;
}

/** What {@link validateRunRecord} returns. */
export type RunRecordValidation =
  | { valid: true; record: RunRecord; errors: [] }
  | { valid: false; errors: RunRecordError[] };

/** Options of {@link validateRunRecord}. */
export interface ValidateRunRecordOptions {
  /** Also check that `contentHash` matches the content. Default true. */
  checkHash?: boolean;
}

/** Encodes a number for metrics and curves: finite numbers as they are, others as strings. */
export function encodeNumber(value: number): JsonNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** Decodes a stored metric or curve value. */
export function decodeNumber(value: JsonNumber): number {
  return typeof value === 'number' ? value : Number(value);
}

/**
 * The canonical text of a number: safe integers exactly; otherwise the number rounded to float32
 * and written as the shortest decimal that rounds back to the same float32 (numbers beyond the
 * float32 range are written as JavaScript writes them). Throws on non-finite numbers.
 */
export function canonicalNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`canonicalNumber: ${value} is not finite (encode it with encodeNumber)`);
  if (Number.isSafeInteger(value)) return String(value);
  const f = Math.fround(value);
  if (!Number.isFinite(f)) return String(value);
  for (let precision = 1; precision < 9; precision++) {
    const text = f.toPrecision(precision);
    if (Math.fround(Number(text)) === f) return String(Number(text));
  }
  return String(Number(f.toPrecision(9)));
}

/** Canonical JSON: sorted keys, no whitespace, numbers by {@link canonicalNumber}. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return canonicalNumber(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
      if (ArrayBuffer.isView(value)) return canonicalJson(Array.from(value as unknown as ArrayLike<number>));
      const members = Object.keys(value as object)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise a ${typeof value}`);
  }
}

/** The part of a record that {@link contentHash} covers (see the module documentation). */
export function hashedContent(record: Pick<RunRecord, 'config' | 'seed' | 'backend' | 'data' | 'metrics' | 'curves' | 'outcome'>): unknown {
  return {
    schema: RUN_RECORD_SCHEMA,
    config: record.config,
    seed: record.seed,
    backend: record.backend.name,
    data: record.data.map((d) => d.fingerprint),
    metrics: record.metrics,
    curves: record.curves,
    ...(record.outcome !== undefined ? { outcome: record.outcome } : {}),
  };
}

/** SHA-256 (lower-case hex) of the canonical JSON of {@link hashedContent}. */
export function contentHash(record: Pick<RunRecord, 'config' | 'seed' | 'backend' | 'data' | 'metrics' | 'curves' | 'outcome'>): string {
  return createHash('sha256').update(canonicalJson(hashedContent(record)), 'utf8').digest('hex');
}

/** SHA-256 (lower-case hex) of bytes or a UTF-8 string: a data fingerprint. */
export function fingerprint(data: ArrayBufferView | ArrayBuffer | string): string {
  const hash = createHash('sha256');
  if (typeof data === 'string') hash.update(data, 'utf8');
  else if (data instanceof ArrayBuffer) hash.update(new Uint8Array(data));
  else hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return hash.digest('hex');
}

/** Curves from a training history: `loss`, `lr`, and each evaluated metric by its name. */
export function curvesFromHistory(history: TrainHistory): Record<string, { step: number[]; value: number[] }> {
  const curves: Record<string, { step: number[]; value: number[] }> = {
    loss: { step: [...history.step], value: [...history.loss] },
    lr: { step: [...history.step], value: [...history.lr] },
  };
  for (const [name, points] of Object.entries(history.metrics)) {
    curves[name] = { step: points.map((p) => p.step), value: points.map((p) => p.value) };
  }
  return curves;
}

const CORE_ROOT = path.join(__dirname, '..', '..');

/** The versions of @hyperlab/core and the TensorFlow.js packages that are installed. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    out['@hyperlab/core'] = (JSON.parse(readFileSync(path.join(CORE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // Not laid out as a package (should not happen); leave it out.
  }
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // Not installed (tfjs-node is optional).
    }
  }
  return out;
}

/** This process's environment: Node version, platform, architecture, package versions. */
export function detectEnvironment(): RunEnvironment {
  return { node: process.version, platform: process.platform, arch: process.arch, packages: packageVersions() };
}

function encodeCurves(curves: RunRecordParts['curves']): Record<string, Curve> {
  const out: Record<string, Curve> = {};
  for (const [name, curve] of Object.entries(curves ?? {})) {
    out[name] = { step: Array.from(curve.step), value: Array.from(curve.value, encodeNumber) };
  }
  return out;
}

/** Thrown by {@link createRunRecord} when the parts do not make a valid record. */
export class RunRecordInvalidError extends Error {
  constructor(readonly errors: RunRecordError[]) {
    super(`invalid run record: ${errors.map((e) => `${e.path || '/'}: ${e.message}`).join('; ')}`);
    this.name = 'RunRecordInvalidError';
  }
}

/** The backend that runs now, as a run record states it. */
export function currentBackend(): RunBackend {
  // Loaded on first use so that reading and comparing records (`@hyperlab/core/runs`) does not load tfjs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { backendInfo } = require('../backend/backend.js') as typeof BackendModule;
  const info = backendInfo();
  const { compiledStepsEnabled } = require('../backend/graph-step.js') as typeof GraphStepModule;
  return {
    name: info.name,
    reason: info.reason,
    ...(info.simd !== undefined ? { simd: info.simd } : {}),
    ...(info.threads === false ? { threads: 1 } : {}),
    ...(info.name === 'node' ? { steps: compiledStepsEnabled() ? ('compiled' as const) : ('eager' as const) } : {}),
  };
}

/**
 * Builds a record: fills `id`, `createdAt` and `environment`, copies `config` through JSON,
 * encodes non-finite metric and curve values, drops non-finite timings, computes `contentHash`,
 * and validates the result (throwing {@link RunRecordInvalidError}, with JSON paths, if invalid).
 */
export function createRunRecord(parts: RunRecordParts): RunRecord {
  const detected = detectEnvironment();
  const environment: RunEnvironment = {
    ...detected,
    ...parts.environment,
    packages: { ...detected.packages, ...parts.environment?.packages },
  };
  const timings: RunTimings = { totalMs: parts.timings.totalMs };
  for (const [key, value] of Object.entries(parts.timings)) if (typeof value === 'number' && Number.isFinite(value)) timings[key] = value;
  const metrics: Record<string, JsonNumber> = {};
  for (const [key, value] of Object.entries(parts.metrics ?? {})) metrics[key] = encodeNumber(value);
  const createdAt = parts.createdAt instanceof Date ? parts.createdAt.toISOString() : (parts.createdAt ?? new Date().toISOString());
  const body = {
    schema: RUN_RECORD_SCHEMA,
    id: parts.id ?? randomUUID(),
    ...(parts.name !== undefined ? { name: parts.name } : {}),
    createdAt,
    config: JSON.parse(JSON.stringify(parts.config ?? {})) as RunRecord['config'],
    seed: parts.seed,
    backend: { ...(parts.backend ?? currentBackend()) },
    environment,
    data: (parts.data ?? []).map((d) => ({ name: d.name, fingerprint: d.fingerprint, size: d.size })),
    metrics,
    curves: encodeCurves(parts.curves),
    timings,
    ...(parts.outcome !== undefined ? { outcome: JSON.parse(JSON.stringify(parts.outcome)) as NonNullable<RunRecord['outcome']> } : {}),
  } satisfies Omit<RunRecord, 'contentHash'>;
  const record: RunRecord = { ...body, contentHash: contentHash(body) };
  const validation = validateRunRecord(record);
  if (!validation.valid) throw new RunRecordInvalidError(validation.errors);
  return record;
}

let schemaCache: Record<string, unknown> | undefined;
let validatorCache: ValidateFunction | undefined;

/** The v1 JSON Schema (read from `packages/core/schema/run-record.v1.schema.json`). */
export function runRecordSchema(): Record<string, unknown> {
  schemaCache ??= JSON.parse(readFileSync(path.join(CORE_ROOT, 'schema', 'run-record.v1.schema.json'), 'utf8')) as Record<string, unknown>;
  return schemaCache;
}

function validator(): ValidateFunction {
  if (validatorCache === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    validatorCache = ajv.compile(runRecordSchema());
  }
  return validatorCache;
}

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

function describeErrors(errors: ErrorObject[]): RunRecordError[] {
  // An anyOf failure also reports each alternative's failure: fold those into one message.
  const anyOf = errors.filter((e) => e.keyword === 'anyOf');
  const out: RunRecordError[] = [];
  for (const error of errors) {
    if (error.keyword === 'anyOf') {
      const alternatives = errors.filter((e) => e !== error && e.instancePath === error.instancePath && e.schemaPath.startsWith(`${error.schemaPath}/`));
      out.push({ path: error.instancePath, message: `must be one of: ${alternatives.map((e) => e.message ?? e.keyword).join('; ')}` });
      continue;
    }
    if (anyOf.some((a) => a.instancePath === error.instancePath && error.schemaPath.startsWith(`${a.schemaPath}/`))) continue;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required') {
      out.push({ path: `${error.instancePath}/${escapePointer(String(params.missingProperty))}`, message: 'is required' });
    } else if (error.keyword === 'additionalProperties') {
      out.push({ path: `${error.instancePath}/${escapePointer(String(params.additionalProperty))}`, message: 'is not allowed here' });
    } else {
      out.push({ path: error.instancePath, message: error.message ?? error.keyword });
    }
  }
  return out;
}

/**
 * Validates a value as a v1 run record against the JSON Schema, then checks what the schema cannot
 * say: each curve's `step` and `value` have equal length, and (unless `checkHash` is false)
 * `contentHash` matches the content. Every error names the JSON Pointer of the offending value.
 */
export function validateRunRecord(value: unknown, options: ValidateRunRecordOptions = {}): RunRecordValidation {
  const { checkHash = true } = options;
  const validate = validator();
  if (!validate(value)) return { valid: false, errors: describeErrors(validate.errors ?? []) };
  const record = value as RunRecord;
  const errors: RunRecordError[] = [];
  for (const [name, curve] of Object.entries(record.curves)) {
    if (curve.step.length !== curve.value.length) {
      errors.push({ path: `/curves/${escapePointer(name)}`, message: `step and value differ in length (${curve.step.length} and ${curve.value.length})` });
    }
  }
  if (checkHash && errors.length === 0) {
    const expected = contentHash(record);
    if (record.contentHash !== expected) errors.push({ path: '/contentHash', message: `does not match the content (content hashes to ${expected})` });
  }
  return errors.length === 0 ? { valid: true, record, errors: [] } : { valid: false, errors };
}
