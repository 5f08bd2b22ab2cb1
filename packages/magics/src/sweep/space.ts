/**
 * The search space of a `%%sweep`: dotted keys of the experiment magic's config, each mapped to a
 * dimension, as written in the cell's YAML:
 *
 * ```yaml
 * space:
 *   train.lr: { loguniform: [1e-4, 1e-1] }
 *   adapter.r: { choice: [4, 8, 16] }
 *   train.batchSize: { grid: [32, 64] }
 *   adapter.loraAlpha: { int: [4, 32] }          # add `log: true` for a log-uniform integer
 *   adapter.loraDropout: { uniform: [0, 0.3] }
 *   model.mlp[1]: { choice: [16, 32, 64] }       # an array element
 * ```
 *
 * Besides sampling and grid enumeration, every dimension maps to and from the unit interval
 * (linear, or logarithmic for `loguniform` and `int` with `log: true`; integers as equal-width
 * bins; categories as equal-width bins in the order written), which is the space TPE's Parzen
 * estimators and PBT's perturbations work in.
 */
import type { JsonSchema } from '../config/yaml-config.js';
import type { SweepRandom } from './seeded-random.js';

/** A continuous dimension, uniform on [low, high]. */
export interface UniformDimension {
  key: string;
  kind: 'uniform';
  low: number;
  high: number;
}
/** A continuous dimension, uniform in log(x) on [low, high] (low > 0). */
export interface LogUniformDimension {
  key: string;
  kind: 'loguniform';
  low: number;
  high: number;
}
/** An integer dimension on [low, high] (both included); `log` samples log-uniformly (low ≥ 1). */
export interface IntDimension {
  key: string;
  kind: 'int';
  low: number;
  high: number;
  log: boolean;
}
/**
 * A categorical dimension. `choice` is sampled; `grid` is enumerated by the grid algorithm (every
 * other algorithm samples it like `choice`). Values are any JSON values, in the order written
 * (PBT's "adjacent value" means adjacent in that order).
 */
export interface CategoricalDimension {
  key: string;
  kind: 'choice' | 'grid';
  values: readonly unknown[];
}
/** One dimension of a {@link SearchSpace}. */
export type Dimension = UniformDimension | LogUniformDimension | IntDimension | CategoricalDimension;

/** A parsed search space: its dimensions in the order written. JSON-safe. */
export interface SearchSpace {
  dimensions: readonly Dimension[];
}

/** A trial's hyperparameters: config key path → value. */
export type Params = Record<string, unknown>;

const pair = (what: string): JsonSchema => ({
  type: 'array',
  description: `[low, high], two numbers (${what})`,
  prefixItems: [{ type: 'number' }, { type: 'number' }],
  items: false,
  minItems: 2,
});
const list = (what: string): JsonSchema => ({ type: 'array', minItems: 1, description: `a non-empty list of values (${what})` });
const only = (properties: Record<string, JsonSchema>, required: string): JsonSchema => ({
  type: 'object',
  properties,
  required: [required],
  additionalProperties: false,
});

/** JSON Schema of one dimension (draft 2020-12); its `description` is what an error says is expected. */
export const dimensionSchema: JsonSchema = {
  description:
    'a dimension: { uniform: [low, high] }, { loguniform: [low, high] }, { int: [low, high] } (optionally with log: true), { choice: [values…] } or { grid: [values…] }',
  oneOf: [
    only({ uniform: pair('uniform in between') }, 'uniform'),
    only({ loguniform: pair('uniform in log between, low > 0') }, 'loguniform'),
    only({ int: pair('integers, both ends included'), log: { type: 'boolean', description: 'sample log-uniformly (low ≥ 1)' } }, 'int'),
    only({ choice: list('one is sampled per trial') }, 'choice'),
    only({ grid: list('the grid algorithm runs every combination') }, 'grid'),
  ],
};

/**
 * JSON Schema of the `space:` section (draft 2020-12): dotted config keys → {@link dimensionSchema}.
 * Cross-field rules (low < high, positive log bounds, valid key paths) are checked by
 * {@link parseSearchSpace}.
 */
export const searchSpaceSchema: JsonSchema = {
  type: 'object',
  description: 'a mapping from dotted config keys (train.lr, adapter.r, model.mlp[1]) to dimensions',
  minProperties: 1,
  additionalProperties: dimensionSchema,
};

/** One problem in a `space:` section, at a key of it. */
export interface SpaceIssue {
  /** The space's key (a config path such as `train.lr`). */
  key: string;
  message: string;
}

/** A `space:` section that is not a valid search space; {@link issues} name each key. */
export class SearchSpaceError extends Error {
  constructor(readonly issues: SpaceIssue[]) {
    super(`invalid search space:\n${issues.map((issue) => `  ${issue.key ? `${issue.key}: ` : ''}${issue.message}`).join('\n')}`);
    this.name = 'SearchSpaceError';
  }
}

/** A config path: names separated by dots, each optionally followed by `[index]`s. */
const PATH_PATTERN = '[A-Za-z_$][\\w$-]*(?:\\[\\d+\\])*(?:\\.[A-Za-z_$][\\w$-]*(?:\\[\\d+\\])*)*';
const PATH = new RegExp(`^${PATH_PATTERN}$`);
const LEADING_PATH = new RegExp(`^${PATH_PATTERN}`);

/** The config path `text` starts with (`model.mlp[1]` of `model.mlp[1] must be …`), if any. */
export function leadingPath(text: string): string | undefined {
  return LEADING_PATH.exec(text)?.[0];
}

/** Splits `model.mlp[1]` into `['model', 'mlp', 1]`; throws on a malformed path. */
export function splitPath(path: string): Array<string | number> {
  if (!PATH.test(path)) throw new Error(`"${path}" is not a config key path (names joined by dots, like train.lr or model.mlp[1])`);
  const steps: Array<string | number> = [];
  for (const part of path.split('.')) {
    const [name, ...indices] = part.split('[');
    steps.push(name);
    for (const index of indices) steps.push(Number(index.slice(0, -1)));
  }
  return steps;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parseDimension(key: string, raw: unknown): Dimension | string {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return `must be ${String(dimensionSchema.description)}`;
  const spec = raw as Record<string, unknown>;
  const kinds = ['uniform', 'loguniform', 'int', 'choice', 'grid'].filter((kind) => kind in spec);
  const extra = Object.keys(spec).filter((name) => !kinds.includes(name) && !(name === 'log' && kinds[0] === 'int'));
  if (kinds.length !== 1 || extra.length > 0) return `must be ${String(dimensionSchema.description)}`;
  const kind = kinds[0];
  const value = spec[kind];
  if (kind === 'choice' || kind === 'grid') {
    if (!Array.isArray(value) || value.length === 0) return `${kind} must be a non-empty list of values`;
    const seen = new Set(value.map((v) => JSON.stringify(v)));
    if (seen.size !== value.length) return `${kind} lists a value twice`;
    return { key, kind, values: value.map((v) => JSON.parse(JSON.stringify(v)) as unknown) };
  }
  if (!Array.isArray(value) || value.length !== 2 || !isNumber(value[0]) || !isNumber(value[1])) return `${kind} must be [low, high], two finite numbers`;
  const [low, high] = value as [number, number];
  if (!(low < high)) return `${kind}: low (${low}) must be less than high (${high})`;
  if (kind === 'uniform') return { key, kind, low, high };
  if (kind === 'loguniform') {
    if (!(low > 0)) return `loguniform: low must be positive (log scale), got ${low}`;
    return { key, kind, low, high };
  }
  if (!Number.isInteger(low) || !Number.isInteger(high)) return `int: low and high must be integers, got [${low}, ${high}]`;
  const log = spec.log === undefined ? false : spec.log;
  if (typeof log !== 'boolean') return `int: log must be true or false`;
  if (log && low < 1) return `int with log: true needs low ≥ 1, got ${low}`;
  return { key, kind: 'int', low, high, log };
}

/**
 * Parses and checks a `space:` section (already valid against {@link searchSpaceSchema}, or raw):
 * throws {@link SearchSpaceError} listing every bad key.
 */
export function parseSearchSpace(raw: unknown): SearchSpace {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SearchSpaceError([{ key: '', message: `the space must be ${String(searchSpaceSchema.description)}` }]);
  const issues: SpaceIssue[] = [];
  const dimensions: Dimension[] = [];
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) issues.push({ key: '', message: 'the space has no dimensions' });
  for (const [key, spec] of entries) {
    try {
      splitPath(key);
    } catch (error) {
      issues.push({ key, message: (error as Error).message });
      continue;
    }
    const parsed = parseDimension(key, spec);
    if (typeof parsed === 'string') issues.push({ key, message: parsed });
    else dimensions.push(parsed);
  }
  if (issues.length > 0) throw new SearchSpaceError(issues);
  return { dimensions };
}

/** True for `choice` and `grid` dimensions. */
export function isCategorical(dim: Dimension): dim is CategoricalDimension {
  return dim.kind === 'choice' || dim.kind === 'grid';
}

/** The index of `value` among a categorical dimension's values (by JSON equality); -1 when absent. */
export function categoryIndex(dim: CategoricalDimension, value: unknown): number {
  const text = JSON.stringify(value);
  return dim.values.findIndex((v) => JSON.stringify(v) === text);
}

/** The continuous interval a numeric dimension lives on, in its own scale (log for log dims). */
function scaledRange(dim: Exclude<Dimension, CategoricalDimension>): [number, number] {
  switch (dim.kind) {
    case 'uniform':
      return [dim.low, dim.high];
    case 'loguniform':
      return [Math.log(dim.low), Math.log(dim.high)];
    case 'int':
      // Each integer owns a bin of width 1 (of equal width in log scale when log: true).
      return dim.log ? [Math.log(dim.low - 0.5), Math.log(dim.high + 0.5)] : [dim.low - 0.5, dim.high + 0.5];
  }
}

const isLogScale = (dim: Exclude<Dimension, CategoricalDimension>): boolean => dim.kind === 'loguniform' || (dim.kind === 'int' && dim.log);
const clip01 = (u: number): number => (u < 0 ? 0 : u > 1 ? 1 : u);

/**
 * A value's position in [0, 1]: linear for `uniform` and `int`, logarithmic for `loguniform` and
 * `int` with `log: true`; an integer or a category maps to the centre of its bin. Values outside
 * the bounds are clipped. A category that is not one of the dimension's values throws.
 */
export function toUnit(dim: Dimension, value: unknown): number {
  if (isCategorical(dim)) {
    const index = categoryIndex(dim, value);
    if (index < 0) throw new Error(`${dim.key}: ${JSON.stringify(value)} is not one of ${JSON.stringify(dim.values)}`);
    return (index + 0.5) / dim.values.length;
  }
  if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`${dim.key}: expected a number, got ${JSON.stringify(value)}`);
  const [a, b] = scaledRange(dim);
  const x = isLogScale(dim) ? Math.log(Math.max(value, Number.MIN_VALUE)) : value;
  return clip01((x - a) / (b - a));
}

/** The inverse of {@link toUnit}: the value at position `u` (clipped to [0, 1]); integers rounded into bounds. */
export function fromUnit(dim: Dimension, u: number): unknown {
  const t = clip01(u);
  if (isCategorical(dim)) return dim.values[Math.min(dim.values.length - 1, Math.floor(t * dim.values.length))];
  const [a, b] = scaledRange(dim);
  const x = a + t * (b - a);
  const value = isLogScale(dim) ? Math.exp(x) : x;
  if (dim.kind === 'int') return Math.min(dim.high, Math.max(dim.low, Math.round(value)));
  // exp(log(x)) can step a hair outside the bounds.
  return Math.min(dim.high, Math.max(dim.low, value));
}

/** Clips a value into a numeric dimension's bounds (and rounds for `int`). */
export function clipToBounds(dim: Exclude<Dimension, CategoricalDimension>, value: number): number {
  const inside = Math.min(dim.high, Math.max(dim.low, value));
  return dim.kind === 'int' ? Math.min(dim.high, Math.max(dim.low, Math.round(inside))) : inside;
}

/** One value drawn from a dimension: uniform in its unit scale (so log-uniform for log dims). */
export function sampleDimension(dim: Dimension, rng: SweepRandom): unknown {
  if (isCategorical(dim)) return dim.values[rng.int(dim.values.length)];
  return fromUnit(dim, rng.uniform());
}

/** A value for every dimension, drawn in the order written. */
export function sample(space: SearchSpace, rng: SweepRandom): Params {
  const params: Params = {};
  for (const dim of space.dimensions) params[dim.key] = sampleDimension(dim, rng);
  return params;
}

/** The `grid` dimensions. */
export function gridDimensions(space: SearchSpace): CategoricalDimension[] {
  return space.dimensions.filter((dim): dim is CategoricalDimension => dim.kind === 'grid');
}

/**
 * Every combination of the `grid` dimensions, once each, the first key varying slowest (as
 * nested loops written in the space's order). A space without grid dimensions has one point: `{}`.
 */
export function gridPoints(space: SearchSpace): Params[] {
  let points: Params[] = [{}];
  for (const dim of gridDimensions(space)) {
    const next: Params[] = [];
    for (const point of points) for (const value of dim.values) next.push({ ...point, [dim.key]: value });
    points = next;
  }
  return points;
}

const describeValue = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
};

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Formats steps back into a path (`model.mlp[1]`). */
function joinPath(steps: ReadonlyArray<string | number>): string {
  return steps.reduce<string>((out, step) => (typeof step === 'number' ? `${out}[${step}]` : out ? `${out}.${step}` : step), '');
}

/**
 * A deep copy of `config` with the value at `path` (`train.lr`, `model.mlp[1]`) set to a copy of
 * `value`. Missing mappings on the way are created; an intermediate that is not a mapping (or not
 * a list, before `[i]`), or an index past a list's end, throws an error naming the path.
 */
export function setPath<T extends Record<string, unknown>>(config: T, path: string, value: unknown): T {
  const steps = splitPath(path);
  const copy = structuredClone(config);
  let node: unknown = copy;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const last = i === steps.length - 1;
    const here = joinPath(steps.slice(0, i)) || 'the config';
    if (typeof step === 'number') {
      if (!Array.isArray(node)) throw new Error(`cannot set ${path}: ${here} is ${describeValue(node)}, not a list`);
      if (step >= node.length) throw new Error(`cannot set ${path}: ${here} has ${node.length} elements, so [${step}] is past its end`);
    } else if (!isRecord(node)) throw new Error(`cannot set ${path}: ${here} is ${describeValue(node)}, not a mapping`);
    const container = node as Record<string | number, unknown>;
    if (last) container[step] = structuredClone(value);
    else {
      if (container[step] === undefined && typeof step === 'string') container[step] = typeof steps[i + 1] === 'number' ? [] : {};
      node = container[step];
    }
  }
  return copy;
}

/** The value at `path` in `config`, or undefined when any step is missing. */
export function getPath(config: unknown, path: string): unknown {
  let node: unknown = config;
  for (const step of splitPath(path)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/** `config` with every parameter set by its path (a deep copy; see {@link setPath}). */
export function applyParams<T extends Record<string, unknown>>(config: T, params: Params): T {
  let out = structuredClone(config);
  for (const [path, value] of Object.entries(params)) out = setPath(out, path, value);
  return out;
}
