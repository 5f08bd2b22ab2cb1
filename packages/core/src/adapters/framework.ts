/**
 * The adapter framework: injecting an adapter of any registered method into the modules a
 * `targetModules` pattern selects, several named adapters per model (add, activate, disable,
 * delete), and merging them into the base weights. Methods live one per file (`lora.ts`, …) and
 * implement {@link AdapterMethod}; this file does what is common to all of them, the way PEFT's
 * `BaseTuner` does for its tuners.
 *
 * Injection replaces each targeted child, in its parent's `children`, by an {@link AdapterLayer}
 * wrapping the base module; the adapter's params are added to the same Params tree under the
 * layer's path (`0.lora_A.default.weight`). Every other leaf is frozen; the leaves of the active
 * adapters (and the biases / `modulesToSave` modules their configs name) are trainable.
 *
 * Adapters bind to the `tf.Variable`s of the Params tree they were added to: switching adapters
 * flips those variables' `trainable` flags, and merging assigns new values to the base weights in
 * place.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { findModules, type Module } from '../nn/module.js';
import { flatten, isLeaf, type Params } from '../params/params.js';
import { validateConfig, type BaseAdapterConfig } from './config.js';
import { targetMatcher, describeTargets } from './targets.js';
import { layerInfo, type AdapterInstance, type AdapterMethod, type LayerInfo } from './method.js';
import { methodOfConfig } from './registry.js';
import { adapterLayer, isAdapterLayer, type ActivationState, type AdapterLayer } from './layer.js';
import { joinPath, removeLeaf, setLeaf, subtree } from './param-paths.js';

/** One leaf an adapter owns or trains. */
export interface AdapterLeaf {
  /** Dotted path in the Params tree. */
  path: string;
  /** Key in PEFT's `adapter_model.safetensors` (`base_model.model.0.lora_A.weight`). */
  peftKey: string;
  /** The variable. */
  variable: tf.Variable;
  /** Whether it trains while its adapter is active (false for frozen shared projections). */
  trainable: boolean;
}

/** One named adapter on a model. */
export interface AdapterRecord {
  /** Its name. */
  readonly name: string;
  /** Its method. */
  readonly method: AdapterMethod<any>;
  /** Its validated config (defaults filled in). */
  readonly config: BaseAdapterConfig & Record<string, unknown>;
  /** Paths of the adapted layers. */
  readonly layers: string[];
  /** The leaves it created (removed on delete / unload). */
  readonly leaves: AdapterLeaf[];
  /** Base leaves it trains (biases per `bias`, `modulesToSave` modules); kept on delete. */
  readonly baseTrainable: AdapterLeaf[];
}

interface ModelAdapters {
  method: string;
  activation: ActivationState;
  adapters: Map<string, AdapterRecord>;
}

const models = new WeakMap<Module, ModelAdapters>();

/** Options of {@link addAdapter}. */
export interface AddAdapterOptions {
  /** Stream for the adapter's random initialisation. Default `new Rng('adapter:<name>')`. */
  rng?: Rng;
}

function modulesByPath(model: Module): Map<string, { module: Module; parent?: Module; key?: string }> {
  return new Map(findModules(model).map((entry) => [entry.path, entry]));
}

function stateOf(model: Module, caller: string): ModelAdapters {
  const state = models.get(model);
  if (!state) throw new Error(`${caller}: the model has no adapters (add one with addAdapter)`);
  return state;
}

function recordOf(state: ModelAdapters, name: string, caller: string): AdapterRecord {
  const record = state.adapters.get(name);
  if (!record) throw new Error(`${caller}: no adapter named '${name}' (have: ${[...state.adapters.keys()].join(', ')})`);
  return record;
}

/** Saved-key form of a layer leaf: the adapter name (second segment of `rel`) is dropped, as PEFT does. */
function peftKeyOf(layerPath: string, rel: string): string {
  const parts = rel.split('.');
  return `base_model.model.${joinPath(layerPath, [parts[0], ...parts.slice(2)].join('.'))}`;
}

/** Sets every adapter-related `trainable` flag from the activation state. */
function refreshTrainable(state: ModelAdapters): void {
  const active = new Set(state.activation.active);
  const base = new Map<tf.Variable, boolean>();
  for (const record of state.adapters.values()) {
    const on = active.has(record.name);
    for (const leaf of record.leaves) leaf.variable.trainable = leaf.trainable && on;
    for (const leaf of record.baseTrainable) base.set(leaf.variable, (base.get(leaf.variable) ?? false) || on);
  }
  for (const [variable, on] of base) variable.trainable = on;
}

/**
 * Adds adapter `name` to every module whose path matches `config.targetModules` and whose kind the
 * method supports, freezes everything else in `params`, and makes the new adapter's leaves
 * trainable when it is active. The first adapter on a model becomes active; later ones are added
 * inactive, as in PEFT (use {@link setActiveAdapters}). Throws, changing nothing, when the pattern
 * matches no supported module, the config is invalid, or the rank does not fit a layer.
 *
 * `config` names its method: `{ method: 'lora', r: 8, targetModules: ['q_proj', 'v_proj'] }`
 * (or build it with `loraConfig`, `doraConfig`, `veraConfig`, `ia3Config`).
 */
export function addAdapter(model: Module, params: Params, config: Record<string, unknown> | BaseAdapterConfig, name = 'default', options: AddAdapterOptions = {}): AdapterRecord {
  const method = methodOfConfig(config);
  const raw = { ...(config as Record<string, unknown>) };
  if (method.name === 'dora' && raw.method === 'lora') raw.method = 'dora';
  const cfg = validateConfig<BaseAdapterConfig & Record<string, unknown>>(method.configName, method.schema, raw);
  method.checkConfig?.(cfg);
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`addAdapter: adapter name must be letters, digits, '_' or '-', got '${name}'`);
  const existing = models.get(model);
  if (existing?.adapters.has(name)) throw new Error(`addAdapter: the model already has an adapter named '${name}'`);
  if (existing && existing.method !== method.name) {
    throw new Error(`addAdapter: the model has ${existing.method} adapters; one method per model (delete them or use another model for ${method.name})`);
  }

  // Select the layers.
  const matches = targetMatcher(cfg.targetModules);
  const all = findModules(model).filter((entry) => entry.path !== '');
  const layers: Array<{ info: LayerInfo; entry: (typeof all)[number] }> = [];
  const wrongKind: string[] = [];
  const byPath = new Map(all.map((entry) => [entry.path, entry]));
  const seen = new Set<string>();
  for (const entry of all) {
    if (!matches(entry.path)) continue;
    const base = isAdapterLayer(entry.module) ? entry.module.base : entry.module;
    // A method may adapt some layers inside a matched module (bottleneck adapters in a block).
    const expanded = method.supportedKinds.includes(base.kind) ? method.expandTarget?.(cfg, base, entry.path) : undefined;
    if (expanded) {
      for (const part of expanded) {
        const sub = byPath.get(part.path);
        const subBase = sub && (isAdapterLayer(sub.module) ? sub.module.base : sub.module);
        const info = subBase && layerInfo(subBase, part.path);
        if (!sub || !info) throw new Error(`${method.configName}: '${entry.path}' (${base.kind}) has no linear or conv2d layer at '${part.path}' to adapt`);
        if (seen.has(part.path)) continue;
        seen.add(part.path);
        layers.push({ info: { ...info, role: part.role, link: part.link }, entry: sub });
      }
      continue;
    }
    const info = method.supportedKinds.includes(base.kind) ? layerInfo(base, entry.path) : undefined;
    if (info && !seen.has(entry.path)) {
      seen.add(entry.path);
      layers.push({ info, entry });
    } else if (!info) wrongKind.push(`${entry.path} (${base.kind})`);
  }
  if (layers.length === 0) {
    const available = all.map((e) => `${e.path} (${isAdapterLayer(e.module) ? e.module.base.kind : e.module.kind})`);
    throw new Error(
      `${method.configName}: targetModules ${JSON.stringify(describeTargets(cfg.targetModules))} matched no ${method.supportedKinds.join(' or ')} module` +
        (wrongKind.length ? ` (matched only ${wrongKind.join(', ')})` : '') +
        `; modules: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}`,
    );
  }
  for (const { info } of layers) method.checkLayer?.(cfg, info);

  // Modules trained in full.
  const saveMatchers = cfg.modulesToSave.map((entry) => ({ entry, test: targetMatcher([entry]) }));
  const savePaths = new Set<string>();
  for (const { entry, test } of saveMatchers) {
    const hit = all.filter((e) => test(e.path)).map((e) => e.path);
    if (hit.length === 0) throw new Error(`${method.configName}.modulesToSave: '${entry}' matches no module`);
    hit.forEach((p) => savePaths.add(p));
  }

  // Freeze the base (everything already there that no adapter owns).
  const owned = new Set<tf.Variable>();
  for (const record of existing?.adapters.values() ?? []) for (const leaf of record.leaves) owned.add(leaf.variable);
  const flatBefore = flatten(params);
  if (!existing) for (const variable of flatBefore.values()) if (!owned.has(variable)) variable.trainable = false;

  // Create the leaves.
  const rng = options.rng ?? new Rng(`adapter:${name}`);
  const leaves: AdapterLeaf[] = [];
  const created: string[] = [];
  const state: ModelAdapters = existing ?? { method: method.name, activation: { active: [], disabled: false }, adapters: new Map() };
  try {
    const shared: Record<string, tf.Variable> = method.createShared?.(cfg, layers.map((l) => l.info), name) ?? {};
    for (const [key, variable] of Object.entries(shared)) {
      const path = `${key}.${name}`;
      setLeaf(params, path, variable);
      created.push(path);
      leaves.push({ path, peftKey: `base_model.${key}`, variable, trainable: variable.trainable });
    }
    const instances: Array<[AdapterInstance<any>, (typeof layers)[number]]> = [];
    for (const l of layers) {
      const layerParams = subtree(params, l.info.path);
      const made = method.init({ layer: l.info, params: layerParams, config: cfg, name, rng: rng.fork(l.info.path), shared });
      for (const [rel, variable] of Object.entries(made.leaves)) {
        const path = joinPath(l.info.path, rel);
        setLeaf(params, path, variable);
        created.push(path);
        leaves.push({ path, peftKey: peftKeyOf(l.info.path, rel), variable, trainable: variable.trainable });
      }
      instances.push([{ name, method, config: cfg, layer: l.info, state: made.state ?? {} }, l]);
    }
    // Wrap.
    for (const [inst, l] of instances) {
      let wrapper: AdapterLayer;
      if (isAdapterLayer(l.entry.module)) wrapper = l.entry.module;
      else {
        wrapper = adapterLayer(method.name, l.info, state.activation);
        (l.entry.parent!.children as Record<string, Module>)[l.entry.key!] = wrapper;
      }
      wrapper.adapters.set(name, inst);
    }
  } catch (error) {
    for (const path of created) removeLeaf(params, path)?.dispose();
    throw error;
  }

  // Base leaves this adapter trains.
  const baseTrainable: AdapterLeaf[] = [];
  const addBase = (path: string): void => {
    const variable = flatBefore.get(path);
    if (variable && !owned.has(variable) && !baseTrainable.some((leaf) => leaf.path === path)) {
      baseTrainable.push({ path, peftKey: `base_model.model.${path}`, variable, trainable: true });
    }
  };
  const bias = cfg.bias as string | undefined;
  if (bias === 'all') for (const path of flatBefore.keys()) if (path.endsWith('.bias') || path === 'bias') addBase(path);
  if (bias === 'lora_only' || bias === 'vera_only') for (const { info } of layers) addBase(joinPath(info.path, 'bias'));
  for (const modulePath of savePaths) for (const path of flatBefore.keys()) if (path.startsWith(`${modulePath}.`)) addBase(path);

  const record: AdapterRecord = { name, method, config: cfg, layers: layers.map((l) => l.info.path), leaves, baseTrainable };
  state.adapters.set(name, record);
  if (state.activation.active.length === 0) state.activation.active = [name];
  models.set(model, state);
  refreshTrainable(state);
  return record;
}

/** The adapters on a model, by name (empty when it has none). */
export function listAdapters(model: Module): AdapterRecord[] {
  return [...(models.get(model)?.adapters.values() ?? [])];
}

/** The record of one adapter. */
export function getAdapter(model: Module, name = 'default'): AdapterRecord {
  return recordOf(stateOf(model, 'getAdapter'), name, 'getAdapter');
}

/** Names of the active adapters, in the order they run. */
export function activeAdapters(model: Module): string[] {
  return [...(models.get(model)?.activation.active ?? [])];
}

/** True while {@link disableAdapters} is in force. */
export function adaptersDisabled(model: Module): boolean {
  return models.get(model)?.activation.disabled ?? false;
}

/**
 * Makes exactly `names` active (one or several; they run in this order) and trainable; the
 * other adapters are kept but neither run nor train.
 */
export function setActiveAdapters(model: Module, names: string[]): void {
  const state = stateOf(model, 'setActiveAdapters');
  if (names.length === 0) throw new Error('setActiveAdapters: give at least one adapter name (use disableAdapters to run the base alone)');
  for (const name of names) recordOf(state, name, 'setActiveAdapters');
  state.activation.active = [...new Set(names)];
  refreshTrainable(state);
}

function adapterLayers(model: Module): Array<{ wrapper: AdapterLayer; parent?: Module; key?: string; path: string }> {
  return findModules(model)
    .filter((e) => isAdapterLayer(e.module))
    .map((e) => ({ wrapper: e.module as AdapterLayer, parent: e.parent, key: e.key, path: e.path }));
}

/** Runs the base model alone until {@link enableAdapters}; throws while adapters are merged (unmerge first). */
export function disableAdapters(model: Module): void {
  const state = stateOf(model, 'disableAdapters');
  const merged = adapterLayers(model).filter((l) => l.wrapper.merged.length > 0);
  if (merged.length > 0) throw new Error(`disableAdapters: adapters are merged into ${merged.map((l) => l.path).join(', ')}; unmerge first`);
  state.activation.disabled = true;
}

/** Undoes {@link disableAdapters}. */
export function enableAdapters(model: Module): void {
  stateOf(model, 'enableAdapters').activation.disabled = false;
}

/**
 * Removes adapter `name`: its leaves leave `params` (and are disposed), wrappers left with no
 * adapter give their place back to the base module. Throws while it is merged.
 */
export function deleteAdapter(model: Module, params: Params, name: string): void {
  const state = stateOf(model, 'deleteAdapter');
  const record = recordOf(state, name, 'deleteAdapter');
  const wrappers = adapterLayers(model).filter((l) => l.wrapper.adapters.has(name));
  const merged = wrappers.filter((l) => l.wrapper.merged.includes(name));
  if (merged.length > 0) throw new Error(`deleteAdapter: '${name}' is merged into ${merged.map((l) => l.path).join(', ')}; unmerge first`);
  for (const { wrapper, parent, key } of wrappers) {
    wrapper.adapters.delete(name);
    if (wrapper.adapters.size === 0 && parent && key !== undefined) (parent.children as Record<string, Module>)[key] = wrapper.base;
  }
  for (const leaf of record.leaves) {
    removeLeaf(params, leaf.path);
    leaf.variable.dispose();
  }
  state.adapters.delete(name);
  state.activation.active = state.activation.active.filter((n) => n !== name);
  if (state.activation.active.length === 0 && state.adapters.size > 0) state.activation.active = [state.adapters.keys().next().value as string];
  for (const leaf of record.baseTrainable) leaf.variable.trainable = false;
  refreshTrainable(state);
  if (state.adapters.size === 0) models.delete(model);
}

function checkMergeable(record: AdapterRecord, caller: string): void {
  if (!record.method.mergeable || !record.method.merge || !record.method.unmerge) {
    throw new Error(`${caller}: adapter '${record.name}' is ${record.method.configName.replace(/Config$/, '')}, which cannot be merged into the base weights`);
  }
}

/**
 * Folds adapters (default: the active ones) into the base weights of their layers, in place; the
 * merged adapters then stop running separately, so the forward is unchanged (up to rounding).
 */
export function merge(model: Module, params: Params, names?: string[]): void {
  const state = stateOf(model, 'merge');
  const list = names ?? state.activation.active;
  const records = list.map((n) => recordOf(state, n, 'merge'));
  records.forEach((r) => checkMergeable(r, 'merge'));
  for (const { wrapper, path } of adapterLayers(model)) {
    for (const record of records) {
      const inst = wrapper.adapters.get(record.name);
      if (!inst || wrapper.merged.includes(record.name)) continue;
      record.method.merge!(inst, subtree(params, path));
      wrapper.merged.push(record.name);
    }
  }
}

/** Undoes {@link merge} for `names` (default: every merged adapter), most recent first. */
export function unmerge(model: Module, params: Params, names?: string[]): void {
  const state = stateOf(model, 'unmerge');
  if (names) names.forEach((n) => recordOf(state, n, 'unmerge'));
  for (const { wrapper, path } of adapterLayers(model)) {
    for (const name of [...wrapper.merged].reverse()) {
      if (names && !names.includes(name)) continue;
      const inst = wrapper.adapters.get(name)!;
      inst.method.unmerge!(inst, subtree(params, path));
      wrapper.merged.splice(wrapper.merged.lastIndexOf(name), 1);
    }
  }
}

/**
 * Merges the active adapters, then removes every adapter: wrappers give their place back to the
 * base modules and adapter leaves leave `params` (disposed). Returns the (same, now plain) model
 * and params. Base leaves keep their `trainable` flags (frozen, except trained biases / saved modules).
 */
export function mergeAndUnload(model: Module, params: Params): { model: Module; params: Params } {
  const state = stateOf(model, 'mergeAndUnload');
  const unmergedActive = state.activation.active.filter((n) => adapterLayers(model).some((l) => l.wrapper.adapters.has(n) && !l.wrapper.merged.includes(n)));
  if (!state.activation.disabled) merge(model, params, unmergedActive);
  unloadAll(model, params, state);
  return { model, params };
}

/** Removes every adapter without merging (PEFT's `unload`): the base model as it was. */
export function unloadAdapters(model: Module, params: Params): { model: Module; params: Params } {
  const state = stateOf(model, 'unloadAdapters');
  unmerge(model, params);
  unloadAll(model, params, state);
  return { model, params };
}

function unloadAll(model: Module, params: Params, state: ModelAdapters): void {
  for (const { wrapper, parent, key } of adapterLayers(model)) if (parent && key !== undefined) (parent.children as Record<string, Module>)[key] = wrapper.base;
  for (const record of state.adapters.values()) {
    for (const leaf of record.leaves) {
      removeLeaf(params, leaf.path);
      leaf.variable.dispose();
    }
  }
  models.delete(model);
}

/** True when `value` is a leaf of `params` at `path` (for save/load). */
export function leafAt(params: Params, path: string): tf.Variable | undefined {
  let node: unknown = params;
  for (const part of path.split('.')) {
    if (node === undefined || isLeaf(node)) return undefined;
    node = (node as Params)[part];
  }
  return isLeaf(node) ? node : undefined;
}
