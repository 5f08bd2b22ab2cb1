/**
 * The `model:` section: a fresh MLP (`{ mlp: [784, 256, 128, 5] }`), or the name of an earlier run
 * or notebook variable holding `{ model, params }` to start from. A referenced model is copied
 * (a new module of the same shape and a copy of its weights), so training never changes the
 * original; what is recorded is the shape and a fingerprint of the starting weights.
 */
import { createHash } from 'node:crypto';
import type * as Core from '@hyperlab/core';
import type { JsonSchema } from '../config/yaml-config.js';
import type { MagicSession } from '../session.js';

/** A fresh MLP's spec (with `weights`: an MLP starting from those weights instead of a fresh init). */
export interface MlpSpec {
  mlp: number[];
  activation: Core.ActivationName;
  dropout: number;
  bias: boolean;
  /** Base64 safetensors of every parameter (PyTorch names), as `%%sweep` sends a named base model. */
  weights?: string;
  /** Where the weights came from (informational). */
  from?: string;
}

/** A validated `model:` section. */
export type ModelConfig = string | MlpSpec;

/** The JSON Schema of a `model:` section. */
export function modelSchema(): JsonSchema {
  return {
    description: 'the name of an earlier run or variable holding { model, params }, or a mapping like { mlp: [784, 128, 10] }',
    anyOf: [
      { type: 'string', pattern: '^[A-Za-z_$][\\w$]*$' },
      {
        type: 'object',
        required: ['mlp'],
        additionalProperties: false,
        properties: {
          mlp: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, description: 'layer widths from input to output, e.g. [784, 128, 10]' },
          activation: { enum: ['relu', 'gelu', 'gelu_tanh', 'silu', 'tanh', 'sigmoid', 'identity'], default: 'relu' },
          dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
          bias: { type: 'boolean', default: true },
          weights: { type: 'string', contentEncoding: 'base64', description: 'starting weights as base64 safetensors (what %%sweep sends its trials for a base model named by run)' },
          from: { type: 'string', description: 'where the weights came from (a run or variable name; informational)' },
        },
      },
    ],
  };
}

/** The config with an MLP spec's defaults filled in (JSON Schema defaults do not apply inside a union). */
export function normalizeModelConfig(config: ModelConfig | { mlp: number[]; activation?: Core.ActivationName; dropout?: number; bias?: boolean; weights?: string; from?: string }): ModelConfig {
  if (typeof config === 'string') return config;
  return {
    mlp: [...config.mlp],
    activation: config.activation ?? 'relu',
    dropout: config.dropout ?? 0,
    bias: config.bias ?? true,
    ...(config.weights !== undefined ? { weights: config.weights } : {}),
    ...(config.from !== undefined ? { from: config.from } : {}),
  };
}

/** A model ready to train, and how to record where it came from. */
export interface BuiltModel {
  model: Core.MlpModule;
  params: Core.Params;
  /** What the record's `config.model` holds. */
  recorded: Record<string, unknown>;
}

/** SHA-256 over the leaves' paths, shapes and float32 bytes, in path order. */
export function paramsFingerprint(core: typeof Core, params: Core.Params): string {
  const hash = createHash('sha256');
  const leaves = [...core.flatten(params)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, leaf] of leaves) {
    hash.update(`${path}:${leaf.shape.join('x')}:${leaf.dtype};`);
    const values = leaf.dataSync();
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}

/** Where a referenced model is found. */
export interface ModelLookup {
  session: MagicSession;
  /** Evaluates a notebook variable by name (throws when there is none). */
  variable(name: string): Promise<unknown>;
  /** Throws a config error at `model`. */
  fail(message: string): never;
}

function isMlp(value: unknown): value is Core.MlpModule {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'mlp' && Array.isArray((value as { sizes?: unknown }).sizes);
}

/** Copies base64 safetensors into `params`: every leaf, with the same shapes, or a config error at `model`. */
function loadWeights(core: typeof Core, params: Core.Params, base64: string, lookup: Pick<ModelLookup, 'fail'>): void {
  let decoded: ReturnType<typeof core.decodeSafetensors>;
  try {
    decoded = core.decodeSafetensors(new Uint8Array(Buffer.from(base64, 'base64')));
  } catch (error) {
    return lookup.fail(`model.weights is not base64 safetensors: ${(error as Error).message}`);
  }
  try {
    const flat = core.flatten(params);
    const missing = [...flat.keys()].filter((path) => !decoded.tensors.has(path));
    const extra = [...decoded.tensors.keys()].filter((path) => !flat.has(path));
    if (missing.length || extra.length) lookup.fail(`model.weights do not fit model.mlp:${missing.length ? ` missing ${missing.join(', ')}` : ''}${extra.length ? ` unexpected ${extra.join(', ')}` : ''}`);
    for (const [path, leaf] of flat) {
      const tensor = decoded.tensors.get(path)!;
      if (tensor.shape.join('x') !== leaf.shape.join('x')) lookup.fail(`model.weights: ${path} is [${tensor.shape.join(', ')}], the model has [${leaf.shape.join(', ')}]`);
      leaf.assign(tensor);
    }
  } finally {
    for (const tensor of decoded.tensors.values()) tensor.dispose();
  }
}

/** Builds the model a config asks for; `rng` initialises a fresh one. */
export async function buildModel(core: typeof Core, config: ModelConfig, rng: Core.Rng, lookup: ModelLookup): Promise<BuiltModel> {
  if (typeof config !== 'string') {
    config = normalizeModelConfig(config) as MlpSpec;
    const model = core.mlp({ sizes: config.mlp, activation: config.activation, dropout: config.dropout, bias: config.bias });
    const params = model.init(rng.fork('init'));
    if (config.weights === undefined) return { model, params, recorded: { ...config } };
    loadWeights(core, params, config.weights, lookup);
    // Recorded as a run from a named model is: the shape and a fingerprint of the weights, not the bytes.
    const { weights: _bytes, ...spec } = config;
    return { model, params, recorded: { ...spec, weights: paramsFingerprint(core, params) } };
  }
  const run = lookup.session.runs.get(config);
  let source: unknown = run?.value;
  if (!run) {
    try {
      source = await lookup.variable(config);
    } catch {
      const runs = [...lookup.session.runs.keys()];
      lookup.fail(`no run or variable named "${config}"${runs.length ? ` (runs so far: ${runs.join(', ')})` : ' (no runs yet: make one with %%adapter --as NAME)'}`);
    }
  }
  const { model: base, params: baseParams } = (source ?? {}) as { model?: unknown; params?: Core.Params };
  if (!isMlp(base) || typeof baseParams !== 'object' || baseParams === null) {
    lookup.fail(`"${config}" does not hold { model, params } with an MLP model (from core's mlp(), or an earlier %%adapter --as run)`);
  }
  if (core.listAdapters(base).length > 0) {
    lookup.fail(`"${config}" carries ${core.listAdapters(base).map((a) => a.config.method).join(', ')} adapters; start from a model without adapters (a run with method full or bitfit), or merge them first (mergeAndUnload)`);
  }
  const flat = core.flatten(baseParams);
  const bias = flat.has('0.bias');
  const model = core.mlp({ sizes: [...base.sizes], activation: base.activation, dropout: base.dropout, bias });
  const params = core.unflatten([...flat].map(([path, leaf]) => [path, core.variable(leaf.clone(), path, true)] as [string, ReturnType<typeof core.variable>]));
  return {
    model,
    params,
    recorded: { from: config, mlp: [...base.sizes], activation: base.activation, dropout: base.dropout, bias, weights: paramsFingerprint(core, params), ...(run ? { fromRun: run.record.contentHash } : {}) },
  };
}
