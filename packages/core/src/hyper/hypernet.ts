/**
 * Hypernetworks: an MLP whose output *is* a target module's Params tree (von Oswald, Henning,
 * Grewe & Sacramento 2020, "Continual learning with hypernetworks", ICLR 2020, arXiv:1906.00695),
 * with hypnettorch's semantics (`hnets/mlp_hnet.py` `HMLP`, `hnets/chunked_mlp_hnet.py`
 * `ChunkedHMLP`):
 *
 * - the input is `[unconditional input, conditional input]`; the conditional input is a learned
 *   embedding (`numCondEmbs` of them, N(0, 1) at init, as hypnettorch) picked by id, or any
 *   tensor the caller gives;
 * - hidden layers `layers` with `activation`, then a linear output layer;
 * - chunked: the output layer emits `chunkSize` values per call; ceil(numOutputs / chunkSize)
 *   learned chunk embeddings (N(0, 1), `[numChunks, chunkEmbSize]`) are concatenated to the input,
 *   one call per chunk (as one batch), and the concatenated chunks are cut to the target's
 *   parameter count. The full hypernetwork is the case of one chunk of `numOutputs` values and no
 *   chunk embedding;
 * - with `mip: true`, Ortiz et al.'s magnitude-invariant parametrisation (`mip.ts`): inputs are
 *   encoded `"cos|sin"` and the output is θ0 + Δθ with θ0 learnable, initialised by the target's init.
 *
 * Params (PyTorch-style names): `layers.<i>.weight/bias` (the MLP, `layers.<L>` the output layer),
 * `task_embs.<id>` (`[condInSize]` each, separate so a strategy can freeze old ones),
 * `chunk_embs` (`[numChunks, chunkEmbSize]`), `theta0.<target names>` (with MIP).
 *
 * Initialisation: hidden layers kaiming-normal (fan-in, the activation's gain) with zero biases;
 * the output layer by the hyperfan rule of `hyperfan.ts` (Chang et al. 2020), so each generated
 * tensor starts at the mean and standard deviation of the target's own init. With MIP the same
 * rule aims Δθ at {@link MIP_DELTA_SCALE} of the target's spread with zero mean, so θ = θ0 + Δθ
 * starts at the target's init; hyperlight instead draws the last layer kaiming-normal fan-out,
 * which on targets of a few thousand parameters makes Δθ larger than θ0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import type { ApplyContext, Module } from '../nn/module.js';
import { mlp } from '../nn/mlp.js';
import { linearForward } from '../nn/linear.js';
import { initializers, type Nonlinearity } from '../nn/init.js';
import { getActivation, type ActivationName } from '../nn/activations.js';
import { flatten, isLeaf, variable, unflatten, type Params } from '../params/params.js';
import { paramChild } from '../nn/param-lookup.js';
import { flattenToVector, numOutputs, shapesOf, splitToParams, targetShapes, type TargetShape } from './target-shapes.js';
import { hyperfanOutputLayer, outputScale, secondMoment } from './hyperfan.js';
import { cosSinEncoding, MIP_ENCODING_MULTIPLIER } from './mip.js';

/** Arguments shared by {@link hmlp} and `chunkedHmlp`. */
export interface HypernetArgs {
  /** The module whose params are generated (any `nn/` module). */
  target: Module;
  /** Read the target's names, shapes and init scale from these params instead of a fresh `target.init`. */
  targetParams?: Params;
  /** Width of the conditional input (the task-embedding size). Default 8 (hypnettorch's `cond_in_size`). */
  condInSize?: number;
  /** Width of an unconditional input given at every call (hypnettorch's `uncond_in_size`). Default 0. */
  uncondInSize?: number;
  /** Hidden layer widths. Default `[100, 100]` (hypnettorch's). */
  layers?: number[];
  /** Activation after each hidden layer. Default `'relu'`. */
  activation?: ActivationName;
  /** Learned conditional (task) embeddings kept in the params, N(0, 1) at init. Default 1. */
  numCondEmbs?: number;
  /** Magnitude-invariant parametrisation (Ortiz et al. 2024): `cos|sin` inputs, θ = θ0 + Δθ. Default false. */
  mip?: boolean;
}

/** Parameter counts of a hypernetwork and its target. */
export interface HypernetCount {
  /** Scalars in the hypernetwork's params: weights, task and chunk embeddings, θ0. */
  hypernet: number;
  /** Of which task embeddings. */
  taskEmbeddings: number;
  /** Scalars the target has (= numbers generated). */
  target: number;
  /** `hypernet / target` (hypnettorch's compression ratio; below 1 the hypernetwork is smaller). */
  compressionRatio: number;
}

/** A hypernetwork: a module whose output is a target's params. */
export interface Hypernetwork extends Module {
  /** `'hmlp'` or `'chunked-hmlp'`. */
  readonly kind: 'hmlp' | 'chunked-hmlp';
  /** The target module. */
  readonly target: Module;
  /** The target's tensors, in the order they are generated. */
  readonly shapes: readonly TargetShape[];
  /** Scalars generated per call. */
  readonly numOutputs: number;
  /** Number of chunks (1 for the full hypernetwork). */
  readonly numChunks: number;
  /** Values per chunk (`numOutputs` for the full hypernetwork). */
  readonly chunkSize: number;
  /** Width of the chunk embeddings (0 for the full hypernetwork). */
  readonly chunkEmbSize: number;
  /** Width of the conditional input. */
  readonly condInSize: number;
  /** Width of the unconditional input. */
  readonly uncondInSize: number;
  /** Number of learned task embeddings. */
  readonly numCondEmbs: number;
  /** Hidden layer widths. */
  readonly layers: readonly number[];
  /** Whether MIP is on. */
  readonly mip: boolean;
  /** Fresh params (see the file comment for names and init). */
  init(rng: Rng): Params;
  /** The flat generated vector `[numOutputs]` for an input `[uncondInSize + condInSize]` (unconditional part first). */
  apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor;
  /** The flat generated vector for a task id (a learned embedding) or a conditional input `[condInSize]`. */
  output(params: Params, condition: number | tf.Tensor, uncond?: tf.Tensor): tf.Tensor1D;
  /** The target's params for a condition: plain tensors with exactly the target's names and shapes, for `target.apply`. */
  generate(params: Params, condition: number | tf.Tensor, uncond?: tf.Tensor): Params;
  /** The learned embedding of task `id`. */
  taskEmbedding(params: Params, id: number): tf.Variable;
  /** Parameter counts and the compression ratio. */
  count(): HypernetCount;
}

/** The internal form: a full hypernetwork is one chunk of all outputs with no chunk embedding. */
export interface HypernetCore extends HypernetArgs {
  kind: Hypernetwork['kind'];
  owner: string;
  chunkSize?: number;
  chunkEmbSize: number;
}

function checkInt(owner: string, name: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) throw new Error(`${owner}: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return value as number;
}

function gainOf(activation: ActivationName): Nonlinearity {
  if (activation === 'tanh') return 'tanh';
  if (activation === 'sigmoid') return 'sigmoid';
  if (activation === 'identity') return 'linear';
  return 'relu';
}

/**
 * With MIP, the standard deviation of Δθ at init as a fraction of the target init's (θ0 carries
 * the target's init; hyperlight's kaiming fan-out gives Δθ larger than θ0 on small targets).
 */
export const MIP_DELTA_SCALE = 0.1;

/** Inputs the hyperfan measurement feeds through the hidden layers when no embeddings are learned. */
const MEASURE_SAMPLES = 16;

/** Builds a (chunked) hypernetwork; `hmlp` and `chunkedHmlp` are the public faces. */
export function hypernetwork(core: HypernetCore): Hypernetwork {
  const { owner, kind, target } = core;
  if (!target || typeof target.init !== 'function' || typeof target.apply !== 'function') throw new Error(`${owner}: target must be a module (init, apply)`);
  const condInSize = checkInt(owner, 'condInSize', core.condInSize ?? 8, 0);
  const uncondInSize = checkInt(owner, 'uncondInSize', core.uncondInSize ?? 0, 0);
  if (condInSize + uncondInSize === 0) throw new Error(`${owner}: condInSize + uncondInSize must be ≥ 1 (the hypernetwork needs an input)`);
  const numCondEmbs = checkInt(owner, 'numCondEmbs', core.numCondEmbs ?? 1, 0);
  const layers = core.layers ?? [100, 100];
  if (!Array.isArray(layers) || !layers.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`${owner}: layers must be an array of positive integers, got ${JSON.stringify(layers)}`);
  const activation = core.activation ?? 'relu';
  const mip = core.mip ?? false;
  if (typeof mip !== 'boolean') throw new Error(`${owner}: mip must be a boolean, got ${JSON.stringify(mip)}`);
  const shapes = core.targetParams ? shapesOf(core.targetParams) : targetShapes(target, new Rng('hypernet:target-shapes'));
  if (shapes.length === 0) throw new Error(`${owner}: the target has no parameters to generate`);
  const total = numOutputs(shapes);
  const chunkSize = core.chunkSize === undefined ? total : checkInt(owner, 'chunkSize', core.chunkSize, 1);
  const numChunks = Math.ceil(total / chunkSize);
  const chunkEmbSize = kind === 'hmlp' ? 0 : checkInt(owner, 'chunkEmbSize', core.chunkEmbSize, 1);
  const encodedWidth = (uncondInSize + condInSize) * (mip ? MIP_ENCODING_MULTIPLIER : 1);
  const sizes = [encodedWidth + chunkEmbSize, ...layers, chunkSize];
  const net = mlp({ sizes, activation });
  const L = sizes.length - 1;

  /** The MLP's input rows `[numChunks, width]` for one input vector `x` `[uncond + cond]`. */
  const inputRows = (params: Params, x: tf.Tensor): tf.Tensor => {
    const encoded = tf.reshape(mip ? cosSinEncoding(x) : x, [1, encodedWidth]);
    if (chunkEmbSize === 0) return encoded;
    const chunks = params.chunk_embs;
    if (!isLeaf(chunks) && !(chunks instanceof tf.Tensor)) throw new Error(`${owner}: params have no chunk_embs`);
    return tf.concat([tf.tile(encoded, [numChunks, 1]), chunks as tf.Tensor], 1);
  };

  const self: Hypernetwork = {
    kind,
    target,
    shapes,
    numOutputs: total,
    numChunks,
    chunkSize,
    chunkEmbSize,
    condInSize,
    uncondInSize,
    numCondEmbs,
    layers: [...layers],
    mip,
    init(rng: Rng): Params {
      const flat: Array<[string, tf.Variable]> = [];
      const hiddenRng = rng.fork('layers');
      const hiddenInit = initializers.kaimingNormal({ nonlinearity: gainOf(activation) });
      for (let l = 0; l < L - 1; l++) {
        const layerRng = hiddenRng.fork(String(l));
        flat.push([`layers.${l}.weight`, variable(hiddenInit(layerRng, [sizes[l + 1], sizes[l]]), `${owner}.layers.${l}.weight`)]);
        flat.push([`layers.${l}.bias`, variable(tf.zeros([sizes[l + 1]]), `${owner}.layers.${l}.bias`)]);
      }
      const embRng = rng.fork('task_embs');
      for (let t = 0; t < numCondEmbs; t++) flat.push([`task_embs.${t}`, variable(initializers.normal()(embRng.fork(String(t)), [condInSize]), `${owner}.task_embs.${t}`)]);
      if (chunkEmbSize > 0) flat.push(['chunk_embs', variable(initializers.normal()(rng.fork('chunk_embs'), [numChunks, chunkEmbSize]), `${owner}.chunk_embs`)]);
      const outRng = rng.fork('output');
      const hiddenWidth = sizes[L - 1];
      // Measure E[a²] of the last hidden layer over the inputs the network will see at init.
      const partial = unflatten(flat);
      const q = tf.tidy(() => {
        const measureRng = rng.fork('measure');
        const rows: tf.Tensor[] = [];
        const count = numCondEmbs > 0 ? numCondEmbs : MEASURE_SAMPLES;
        for (let s = 0; s < count; s++) {
          const cond = numCondEmbs > 0 ? ((partial.task_embs as Params)[String(s)] as tf.Tensor) : mip ? tf.tensor1d(measureRng.fillUniform(new Float32Array(condInSize))) : initializers.normal()(measureRng, [condInSize]);
          const uncond = initializers.normal()(measureRng, [uncondInSize]);
          rows.push(inputRows(partial, tf.concat([uncond, cond])));
        }
        let h = tf.concat(rows, 0);
        const act = getActivation(activation);
        for (let l = 0; l < L - 1; l++) {
          const layer = (partial.layers as Params)[String(l)] as Params;
          h = act(linearForward(h, layer.weight as tf.Tensor, layer.bias as tf.Tensor));
        }
        return tf.scalar(secondMoment(h));
      });
      const moment = q.dataSync()[0];
      q.dispose();
      const scale = outputScale(shapes, chunkSize);
      if (mip) {
        // Δθ starts at MIP_DELTA_SCALE of the target's spread, around θ0 (which carries the mean).
        scale.variance.forEach((v, m) => (scale.variance[m] = v * MIP_DELTA_SCALE * MIP_DELTA_SCALE));
        scale.mean.fill(0);
      }
      const out = hyperfanOutputLayer(scale, hiddenWidth, moment, (n) => outRng.fillNormal(new Float32Array(n)));
      flat.push([`layers.${L - 1}.weight`, variable(out.weight, `${owner}.layers.${L - 1}.weight`)]);
      flat.push([`layers.${L - 1}.bias`, variable(out.bias, `${owner}.layers.${L - 1}.bias`)]);
      if (mip) {
        const theta0 = target.init(rng.fork('theta0'));
        for (const [name, leaf] of flatten(theta0)) flat.push([`theta0.${name}`, leaf]);
      }
      return unflatten(flat);
    },
    apply(params: Params, x: tf.Tensor): tf.Tensor {
      if (x.size !== uncondInSize + condInSize) throw new Error(`${owner}: expected an input of ${uncondInSize + condInSize} values (uncondInSize + condInSize), got [${x.shape.join(', ')}]`);
      return tf.tidy(() => {
        const rows = inputRows(params, tf.reshape(x, [uncondInSize + condInSize]));
        const chunks = net.apply(paramChild(params, 'layers', owner), rows);
        let flatOut = tf.reshape(chunks, [-1]);
        if (numChunks * chunkSize !== total) flatOut = tf.slice(flatOut, [0], [total]);
        if (mip) flatOut = tf.add(flatOut, flattenToVector(paramChild(params, 'theta0', owner)));
        return flatOut;
      });
    },
    output(params: Params, condition: number | tf.Tensor, uncond?: tf.Tensor): tf.Tensor1D {
      return tf.tidy(() => {
        const cond = typeof condition === 'number' ? self.taskEmbedding(params, condition) : condition;
        if (cond.size !== condInSize) throw new Error(`${owner}: a conditional input has ${condInSize} values (condInSize), got [${cond.shape.join(', ')}]`);
        if (uncondInSize > 0 && (uncond === undefined || uncond.size !== uncondInSize)) throw new Error(`${owner}: needs an unconditional input of ${uncondInSize} values (uncondInSize)`);
        const parts = [...(uncondInSize > 0 ? [tf.reshape(uncond!, [uncondInSize])] : []), tf.reshape(cond, [condInSize])];
        return self.apply(params, parts.length === 1 ? parts[0] : tf.concat(parts)) as tf.Tensor1D;
      });
    },
    generate(params: Params, condition: number | tf.Tensor, uncond?: tf.Tensor): Params {
      const flatOut = self.output(params, condition, uncond);
      const tree = splitToParams(flatOut, shapes);
      if (shapes.length > 1) flatOut.dispose();
      return tree;
    },
    taskEmbedding(params: Params, id: number): tf.Variable {
      if (!Number.isInteger(id) || id < 0 || id >= numCondEmbs) throw new Error(`${owner}: task id ${id} is out of range (numCondEmbs = ${numCondEmbs})`);
      const leaf = (paramChild(params, 'task_embs', owner) as Params)[String(id)];
      if (!isLeaf(leaf)) throw new Error(`${owner}: params have no task_embs.${id}`);
      return leaf;
    },
    count(): HypernetCount {
      let weights = 0;
      for (let l = 0; l < L; l++) weights += (sizes[l] + 1) * sizes[l + 1];
      const taskEmbeddings = numCondEmbs * condInSize;
      const hypernet = weights + taskEmbeddings + numChunks * chunkEmbSize + (mip ? total : 0);
      return { hypernet, taskEmbeddings, target: total, compressionRatio: hypernet / total };
    },
  };
  return self;
}
