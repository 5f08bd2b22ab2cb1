/**
 * Hypernetwork-generated LoRA adapters, after HyperFormer (Mahabadi, Ruder, Dehghani &
 * Henderson 2021, "Parameter-efficient Multi-task Fine-tuning for Transformers via Shared
 * Hypernetworks", ACL 2021, arXiv:2106.04489): one small generator, shared by every task and
 * layer, emits each targeted layer's adapter from a learned task embedding and a learned layer
 * embedding, so adding a task costs one embedding.
 *
 * ```text
 * [e_task ; e_layer] → projector MLP (relu) → s_ℓ → A_ℓ = reshape(W_A·s_ℓ + b_A) [r, in]
 *                                                  B_ℓ = reshape(W_B·s_ℓ + b_B) [out, r]
 * layer ℓ computes x·(W_ℓ + (loraAlpha/r)·B_ℓ·A_ℓ)ᵀ + b_ℓ with W_ℓ, b_ℓ the frozen base's
 * ```
 *
 * Where this differs from HyperFormer: it generates LoRA's A/B (Hu et al. 2021) instead of
 * bottleneck adapters with layer norms, and does not add their adapter-position embedding (one
 * LoRA per linear); its heads W_A, W_B are shared by the targeted layers of the same (in, out)
 * size rather than by all layers (HyperFormer's layers all have the model width). Init: B's head
 * is zero, so every generated adapter starts as the identity, as LoRA; A's head follows the
 * hyperfan rule (`hyperfan.ts`) to LoRA's own A init, U(−1/√in, 1/√in).
 *
 * {@link HyperLora.loraParamsFor} gives a task's A/B; {@link materializeAdapter} writes them into
 * the base as a normal LoRA adapter, so merge/unmerge and PEFT-layout saving (`adapters/save.ts`)
 * work per task.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { findModules, type ApplyContext, type Module } from '../nn/module.js';
import type { LinearModule } from '../nn/linear.js';
import { mlp } from '../nn/mlp.js';
import { initializers } from '../nn/init.js';
import { flatten, unflatten, variable, type Params } from '../params/params.js';
import { paramChild } from '../nn/param-lookup.js';
import type { TargetModules } from '../adapters/config.js';
import { targetMatcher } from '../adapters/targets.js';
import { addAdapter, leafAt, type AdapterRecord } from '../adapters/framework.js';
import { hyperfanOutputLayer, secondMoment } from './hyperfan.js';

/** Arguments of {@link hyperLora}. */
export interface HyperLoraArgs {
  /** The frozen base model (without adapters). */
  base: Module;
  /** Which linear layers get an adapter (PEFT's `targetModules` rules). */
  targetModules: TargetModules;
  /** Tasks (learned embeddings). */
  numTasks: number;
  /** LoRA rank. Default 8. */
  r?: number;
  /** LoRA's alpha; the update is scaled by loraAlpha / r. Default 8. */
  loraAlpha?: number;
  /** Task embedding width. Default 16. */
  taskEmbSize?: number;
  /** Layer embedding width. Default 8. */
  layerEmbSize?: number;
  /** Hidden width of the projector MLP. Default 32. */
  projectorHidden?: number;
  /** Width of the projected embedding s the heads read. Default 16. */
  projectedSize?: number;
}

/** One targeted layer. */
export interface HyperLoraLayer {
  /** Its dotted path in the base. */
  path: string;
  /** Input width. */
  inFeatures: number;
  /** Output width. */
  outFeatures: number;
  /** Its row in `layer_embs`. */
  index: number;
  /** The head that generates it (`<in>x<out>`). */
  head: string;
}

/** A task's generated adapter for one layer. */
export interface LoraFactors {
  /** `[r, in]` (PEFT's `lora_A.weight`). */
  a: tf.Tensor2D;
  /** `[out, r]` (PEFT's `lora_B.weight`). */
  b: tf.Tensor2D;
}

/** The generator. */
export interface HyperLora {
  /** The targeted layers, in the base's order. */
  readonly layers: readonly HyperLoraLayer[];
  /** LoRA rank. */
  readonly r: number;
  /** LoRA alpha. */
  readonly loraAlpha: number;
  /** The config a materialised adapter gets (`{ method: 'lora', r, loraAlpha, targetModules }`). */
  readonly loraConfig: Record<string, unknown>;
  /**
   * Fresh generator params: `task_embs.<t>`, `layer_embs` `[layers, layerEmbSize]`,
   * `projector.<i>.weight/bias`, `heads.<in>x<out>.lora_A/lora_B.weight/bias`.
   */
  init(rng: Rng): Params;
  /** Task `task`'s A and B for every targeted layer, by layer path (plain tensors, differentiable). */
  loraParamsFor(params: Params, task: number): Map<string, LoraFactors>;
  /** The base's output with task `task`'s generated adapters applied (for training the generator). */
  apply(params: Params, baseParams: Params, x: tf.Tensor, task: number, ctx?: ApplyContext): tf.Tensor;
}

function checkInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`hyperLora: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/** A LoRA generator for the base's targeted linear layers (see the file comment). */
export function hyperLora(args: HyperLoraArgs): HyperLora {
  const r = checkInt('r', args.r ?? 8, 1);
  const loraAlpha = args.loraAlpha ?? 8;
  if (typeof loraAlpha !== 'number' || !Number.isFinite(loraAlpha)) throw new Error(`hyperLora: loraAlpha must be a finite number, got ${JSON.stringify(loraAlpha)}`);
  const numTasks = checkInt('numTasks', args.numTasks, 1);
  const taskEmbSize = checkInt('taskEmbSize', args.taskEmbSize ?? 16, 1);
  const layerEmbSize = checkInt('layerEmbSize', args.layerEmbSize ?? 8, 1);
  const hidden = checkInt('projectorHidden', args.projectorHidden ?? 32, 1);
  const projected = checkInt('projectedSize', args.projectedSize ?? 16, 1);
  const matches = targetMatcher(args.targetModules);
  const layers: HyperLoraLayer[] = findModules(args.base)
    .filter((m) => m.module.kind === 'linear' && matches(m.path))
    .map((m, index) => {
      const { inFeatures, outFeatures } = m.module as LinearModule;
      return { path: m.path, inFeatures, outFeatures, index, head: `${inFeatures}x${outFeatures}` };
    });
  if (layers.length === 0) throw new Error(`hyperLora: targetModules ${JSON.stringify(String(args.targetModules))} matches no linear layer of the base`);
  for (const l of layers) if (r > Math.min(l.inFeatures, l.outFeatures)) throw new Error(`hyperLora: r = ${r} is larger than min(in, out) = ${Math.min(l.inFeatures, l.outFeatures)} of layer '${l.path}'`);
  const heads = new Map(layers.map((l) => [l.head, l]));
  const projector = mlp({ sizes: [taskEmbSize + layerEmbSize, hidden, projected] });
  const scale = loraAlpha / r;

  /** The projected embeddings s `[layers, projected]` of one task. */
  const project = (params: Params, task: number): tf.Tensor => {
    if (!Number.isInteger(task) || task < 0 || task >= numTasks) throw new Error(`hyperLora: task ${task} is out of range (numTasks = ${numTasks})`);
    const e = paramChild(params, 'task_embs', 'hyperLora')[String(task)] as tf.Tensor;
    const input = tf.concat([tf.tile(tf.reshape(e, [1, taskEmbSize]), [layers.length, 1]), params.layer_embs as tf.Tensor], 1);
    return tf.relu(projector.apply(paramChild(params, 'projector', 'hyperLora'), input));
  };

  const self: HyperLora = {
    layers,
    r,
    loraAlpha,
    loraConfig: { method: 'lora', r, loraAlpha, targetModules: layers.map((l) => l.path) },
    init(rng: Rng): Params {
      const flat: Array<[string, tf.Variable]> = [];
      const embRng = rng.fork('task_embs');
      for (let t = 0; t < numTasks; t++) flat.push([`task_embs.${t}`, variable(initializers.normal()(embRng.fork(String(t)), [taskEmbSize]), `hyperLora.task_embs.${t}`)]);
      flat.push(['layer_embs', variable(initializers.normal()(rng.fork('layer_embs'), [layers.length, layerEmbSize]), 'hyperLora.layer_embs')]);
      for (const [path, leaf] of flatten(projector.init(rng.fork('projector')))) flat.push([`projector.${path}`, leaf]);
      const partial = unflatten(flat);
      const q = tf.tidy(() => {
        const all = tf.concat(Array.from({ length: numTasks }, (_, t) => project(partial, t)));
        return secondMoment(all);
      });
      const headRng = rng.fork('heads');
      for (const [name, l] of heads) {
        const aSize = r * l.inFeatures;
        const aTarget = { variance: new Float32Array(aSize).fill(1 / (3 * l.inFeatures)), mean: new Float32Array(aSize) };
        const a = hyperfanOutputLayer(aTarget, projected, q, (n) => headRng.fork(`${name}.lora_A`).fillNormal(new Float32Array(n)));
        flat.push([`heads.${name}.lora_A.weight`, variable(a.weight, `hyperLora.heads.${name}.lora_A.weight`)]);
        flat.push([`heads.${name}.lora_A.bias`, variable(a.bias, `hyperLora.heads.${name}.lora_A.bias`)]);
        flat.push([`heads.${name}.lora_B.weight`, variable(tf.zeros([l.outFeatures * r, projected]), `hyperLora.heads.${name}.lora_B.weight`)]);
        flat.push([`heads.${name}.lora_B.bias`, variable(tf.zeros([l.outFeatures * r]), `hyperLora.heads.${name}.lora_B.bias`)]);
      }
      return unflatten(flat);
    },
    loraParamsFor(params: Params, task: number): Map<string, LoraFactors> {
      const s = project(params, task);
      const out = new Map<string, LoraFactors>();
      const headParams = paramChild(params, 'heads', 'hyperLora');
      for (const l of layers) {
        const h = paramChild(headParams, l.head, 'hyperLora');
        const row = tf.slice(s, [l.index, 0], [1, projected]);
        const gen = (which: 'lora_A' | 'lora_B', shape: [number, number]) => {
          const p = paramChild(h, which, 'hyperLora');
          return tf.reshape(tf.add(tf.matMul(row, p.weight as tf.Tensor, false, true), p.bias as tf.Tensor), shape) as tf.Tensor2D;
        };
        out.set(l.path, { a: gen('lora_A', [r, l.inFeatures]), b: gen('lora_B', [l.outFeatures, r]) });
      }
      s.dispose();
      return out;
    },
    apply(params: Params, baseParams: Params, x: tf.Tensor, task: number, ctx?: ApplyContext): tf.Tensor {
      return tf.tidy(() => {
        const factors = self.loraParamsFor(params, task);
        const effective = [...flatten(baseParams)].map(([path, w]): [string, tf.Variable] => {
          const layer = path.endsWith('.weight') ? factors.get(path.slice(0, -'.weight'.length)) : undefined;
          return [path, (layer ? tf.add(w, tf.mul(tf.matMul(layer.b, layer.a), scale)) : w) as tf.Variable];
        });
        return args.base.apply(unflatten(effective), x, ctx);
      });
    },
  };
  return self;
}

/**
 * Adds task `task`'s generated adapter to the base as a normal LoRA adapter named `name`
 * (`adapters/framework.ts`), its A/B set to the generated values: it then merges, unmerges and
 * saves (`saveAdapter`, PEFT's layout) like any LoRA adapter.
 */
export function materializeAdapter(generator: HyperLora, params: Params, base: Module, baseParams: Params, task: number, name = `task${task}`): AdapterRecord {
  const record = addAdapter(base, baseParams, generator.loraConfig, name);
  tf.tidy(() => {
    for (const [path, { a, b }] of generator.loraParamsFor(params, task)) {
      leafAt(baseParams, `${path}.lora_A.${name}.weight`)!.assign(a);
      leafAt(baseParams, `${path}.lora_B.${name}.weight`)!.assign(b);
    }
  });
  return record;
}
