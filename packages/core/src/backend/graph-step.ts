/**
 * Compiled training steps for the native backend (tfjs-node). TensorFlow's eager API costs tens of
 * microseconds per op call through tfjs-node's addon, and a training step of a small model is
 * 100–200 op calls, so on MLPs the native backend spends more time calling than computing
 * (docs/benchmarks.md). A {@link StepCompiler} removes that cost the way `tf.function` does in
 * Python: it runs a step eagerly while recording every op the addon executes (each op's name,
 * attributes and input/output tensor ids), rebuilds the recorded dataflow as a TensorFlow GraphDef
 * (placeholders for the step's inputs and the variables it reads; the step's result, every variable
 * it assigns and every value it read back become fetches), wraps it in a SavedModel (tfjs-node's
 * own protobuf classes) and loads it as a TF session — tfjs-node's `loadSavedModel` path, the only
 * graph runner its addon offers. A step then costs one `TF_SessionRun`.
 *
 * Soundness. A trace is a graph only if the step's JavaScript would build the same ops next time.
 * The compiler therefore compiles only after two consecutive traces (two real eager steps) have
 * the same *structure*: op names and attributes, wiring, feed shapes, which variables are read and
 * assigned, and the values of every constant the step created from JavaScript. A number that
 * changes every step (a learning rate, Adam's bias correction, a dropout mask, a memory batch
 * sampled in JavaScript) makes the constants differ, so such a step stays eager unless the number
 * is passed through {@link StepCompiler.scalar} as an input. Values the step reads back into
 * JavaScript (`dataSync` inside the step, e.g. to choose a branch) become guards: the compiled step
 * fetches them too, and if one differs from the traced value the compiled result is discarded
 * (nothing assigned) and the step runs eagerly instead. What a trace cannot see is JavaScript state
 * outside tensors (a hook that counts steps in a closure): such hooks must not be compiled
 * (`train({ compile: false })`).
 *
 * Numerics: the same TensorFlow kernels, but TensorFlow's graph optimiser (grappler) may fuse ops,
 * so compiled steps agree with eager ones to rounding (about 1e-8 on parameters per step), not bit
 * for bit; compiled runs are deterministic run to run (a test checks it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What tfjs-node's addon returns for a tensor. */
interface TensorMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

/** An op attribute as tfjs-node passes it to the addon. */
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

type Values = Float32Array | Int32Array | Uint8Array;

/** The parts of tfjs-node's addon binding used here. */
interface Binding {
  executeOp(name: string, attrs: OpAttr[], inputs: number[], numOutputs: number): TensorMetadata[];
  createTensor(shape: number[], dtype: number, values: Values): number;
  tensorDataSync(id: number): Values;
  runSavedModel(session: number, inputs: number[], inputNames: string, outputNames: string): TensorMetadata[];
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
  TF_BOOL: number;
}

/** The parts of tfjs-node's `NodeJSKernelBackend` used here. */
interface NodeBackend {
  binding: Binding;
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  createOutputTensor(metadata: TensorMetadata): tf.Tensor;
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  deleteSavedModel(session: number): void;
}

/**
 * True when `train()` compiles its steps in this process: the native backend can, and
 * `HYPERLAB_COMPILE=0` does not turn it off (a run with hooks still runs eager; that follows
 * from its config). Run records state it (`backend.steps`).
 */
export function compiledStepsEnabled(): boolean {
  return process.env.HYPERLAB_COMPILE !== '0' && canCompileSteps();
}

/** True when the active backend is tfjs-node's and can run compiled steps. */
export function canCompileSteps(): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  const backend = tf.backend() as unknown as Partial<NodeBackend>;
  return typeof backend.loadSavedModelMetaGraph === 'function' && typeof backend.binding?.runSavedModel === 'function';
}

// tfjs-node's generated protobuf classes (GraphDef, NodeDef, SavedModel, …), loaded on first use.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Proto = any;
let protoModule: Proto;
function proto(): Proto {
  if (protoModule === undefined) {
    const require = createRequire(__filename);
    protoModule = require(require.resolve('@tensorflow/tfjs-node/dist/proto/api_pb.js'));
  }
  return protoModule;
}

interface OpRecord {
  name: string;
  attrs: OpAttr[];
  inputs: number[];
  outputs: TensorMetadata[];
}

interface ConstRecord {
  shape: number[];
  dtype: number;
  values: Values;
}

/** One eager step as recorded. */
interface Trace {
  ops: OpRecord[];
  /** Tensors created from JavaScript during the step (constants of the graph). */
  consts: Map<number, ConstRecord>;
  /** Tensor id → [op index, output index] for every op output. */
  produced: Map<number, [number, number]>;
  /** Values read back into JavaScript during the step. */
  reads: Array<{ id: number; values: Values }>;
  /** The step's inputs, in feed order: the caller's tensors, then {@link StepCompiler.scalar}s. */
  feeds: number[];
  /** Shape and dtype code of every tensor an op took as input. */
  meta: Map<number, { shape: number[]; dtype: number }>;
  /** Every registered variable's tensor id before the step. */
  varsBefore: Map<tf.Variable, number>;
  /** Variables whose value the step replaced, with their new tensor ids. */
  assigned: Array<[tf.Variable, number]>;
  /** The step's result. */
  result: number;
  /** Why this trace cannot become a graph, if it cannot (whatever the next trace is). */
  unusable?: string;
  /** The canonical structure (see the file comment); equal for two traces ⇒ compile. */
  structure: string;
}

/** A loaded graph of a step. */
interface Compiled {
  session: number;
  inputNames: string;
  outputNames: string;
  /** What each placeholder is fed with, in order. */
  inputs: Array<{ kind: 'feed'; index: number } | { kind: 'variable'; variable: tf.Variable }>;
  /** Variables assigned from fetches 1 … assigned.length (fetch 0 is the result). */
  assigned: tf.Variable[];
  /** Read-back guards: the fetch index and the value the trace saw. */
  guards: Array<{ fetch: number; values: Values }>;
}

interface Entry {
  last?: Trace;
  compiled?: Compiled;
  mismatches: number;
  /** Why the latest trace of this entry did not give a graph. */
  reason?: string;
}

/** Counts of how the steps ran, and why compiling stopped if it did. */
export interface StepCompilerStats {
  /** Steps run by a compiled graph. */
  compiledSteps: number;
  /** Steps run eagerly (traced or not). */
  eagerSteps: number;
  /** Graphs built. */
  graphs: number;
  /** Compiled steps whose read-back guard failed (rerun eagerly). */
  guardMisses: number;
  /** Time spent building and loading graphs, in ms. */
  compileMs: number;
  /** Why the steps of some input shape (or variant) never ran compiled, if there are such. */
  reason?: string;
}

function sameValues(a: Values, b: Values): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(x, y) === 0;
}

function digest(values: Values): string {
  return createHash('sha1').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex').slice(0, 16);
}

/**
 * Runs a step function compiled to a TensorFlow graph once it is known to be stable (see the file
 * comment), eagerly until then. One compiler serves one training run: its graphs are keyed by the
 * shapes of the step's inputs (a last, smaller batch gets its own), and {@link dispose} frees them.
 */
export class StepCompiler {
  private readonly backend: NodeBackend;
  private readonly entries = new Map<string, Entry>();
  private readonly variableIndex = new Map<tf.Variable, number>();
  private active: Trace | undefined;
  private disposed = false;
  private readonly counts = { compiledSteps: 0, eagerSteps: 0, graphs: 0, guardMisses: 0, compileMs: 0 };

  /** How the steps ran so far. */
  get stats(): StepCompilerStats {
    const stuck = [...this.entries.values()].find((e) => e.compiled === undefined && e.reason !== undefined);
    return { ...this.counts, ...(stuck ? { reason: stuck.reason } : {}) };
  }

  /**
   * @param maxMismatches after this many traces of one input shape that could not become a graph
   *   (they differ in structure from the trace before, or create variables), stop tracing that
   *   shape: its steps then run eagerly without recording.
   */
  constructor(private readonly maxMismatches = 4) {
    if (!canCompileSteps()) throw new Error(`StepCompiler: needs the native backend (tfjs-node), the active backend is '${tf.getBackend()}'`);
    this.backend = tf.backend() as unknown as NodeBackend;
  }

  /**
   * A scalar input of the step whose value may change from step to step (a learning rate): in a
   * traced step it becomes a placeholder instead of a constant. Call it inside the step function,
   * in the same order every step, and give {@link run} the values the next step will need through
   * its `scalars` argument.
   */
  scalar(value: number): tf.Scalar {
    const s = tf.scalar(value, 'float32');
    const trace = this.active;
    if (trace !== undefined) {
      const id = this.idOf(s); // materialised now, recorded as a constant by the tracer: undo that
      trace.consts.delete(id);
      trace.feeds.push(id);
    }
    return s;
  }

  /**
   * One step: `step()` run eagerly (and traced), or the compiled graph of an earlier trace fed with
   * `feeds` (the tensors the step reads as inputs: a batch) and `scalars()` (the values the step's
   * {@link scalar} calls would make, in order; called only for a compiled run). Variables the step
   * assigns are assigned either way; returns the step's result (the caller disposes it) and, after
   * a compiled run, calls `afterCompiled` so the caller can advance JavaScript-side counters the
   * skipped step function would have advanced. `variant` names JavaScript state the step's ops
   * depend on (which task head a model uses): each variant gets its own graphs.
   */
  run(step: () => tf.Tensor, feeds: readonly tf.Tensor[], scalars: () => number[], afterCompiled?: () => void, variant = ''): tf.Tensor {
    if (this.disposed) throw new Error('StepCompiler: run() after dispose()');
    const key = StepCompiler.keyOf(feeds, variant);
    let entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, (entry = { mismatches: 0 }));
    if (entry.compiled !== undefined) {
      const result = this.runCompiled(entry.compiled, feeds, scalars());
      if (result !== undefined) {
        this.counts.compiledSteps++;
        afterCompiled?.();
        return result;
      }
      this.counts.guardMisses++;
    }
    this.counts.eagerSteps++;
    if (entry.compiled !== undefined || entry.mismatches >= this.maxMismatches) return step();
    const { trace, result } = this.trace(step, feeds);
    const previous = entry.last;
    entry.last = trace;
    if (trace.unusable !== undefined) {
      entry.mismatches++;
      entry.reason = trace.unusable;
      return result;
    }
    if (previous === undefined || previous.unusable !== undefined) return result;
    if (previous.structure !== trace.structure) {
      entry.mismatches++;
      entry.reason = 'the step builds different ops or constants from step to step (a number computed in JavaScript each step, a dropout mask, a batch sampled inside the step)';
      return result;
    }
    const started = performance.now();
    try {
      entry.compiled = this.compile(trace);
      entry.last = undefined;
      this.counts.graphs++;
    } catch (error) {
      entry.mismatches = this.maxMismatches;
      entry.reason = `TensorFlow could not build the step's graph: ${(error as Error).message}`;
    }
    this.counts.compileMs += performance.now() - started;
    return result;
  }

  /**
   * The graph a step with these inputs and variant uses: JavaScript state a caller keeps per graph
   * (which variables an update touches) should be keyed by it too.
   */
  static keyOf(feeds: readonly tf.Tensor[], variant = ''): string {
    return `${variant}|${feeds.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ')}`;
  }

  /** Frees the compiled graphs' sessions. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const entry of this.entries.values()) {
      if (entry.compiled) this.backend.deleteSavedModel(entry.compiled.session);
      entry.last = undefined;
    }
  }

  private idOf(t: tf.Tensor): number {
    return this.backend.getInputTensorIds([t])[0];
  }

  private variableNumber(v: tf.Variable): number {
    let k = this.variableIndex.get(v);
    if (k === undefined) this.variableIndex.set(v, (k = this.variableIndex.size));
    return k;
  }

  /** Runs `step` eagerly with the addon's op calls recorded. */
  private trace(step: () => tf.Tensor, feeds: readonly tf.Tensor[]): { trace: Trace; result: tf.Tensor } {
    const backend = this.backend;
    const binding = backend.binding;
    const variables = Object.values(tf.engine().registeredVariables) as tf.Variable[];
    const varsBefore = new Map(variables.filter((v) => !v.isDisposed).map((v) => [v, this.idOf(v)] as [tf.Variable, number]));
    const trace: Trace = { ops: [], consts: new Map(), produced: new Map(), reads: [], meta: new Map(), feeds: feeds.map((t) => this.idOf(t)), varsBefore, assigned: [], result: -1, structure: '' };
    feeds.forEach((t, k) => trace.meta.set(trace.feeds[k], { shape: [...t.shape], dtype: dtypeCode(binding, t.dtype) }));
    const recorder = Object.create(binding) as Binding;
    Object.defineProperties(recorder, {
      executeOp: {
        value: (name: string, attrs: OpAttr[], inputs: number[], numOutputs: number): TensorMetadata[] => {
          const outputs = binding.executeOp(name, attrs, inputs, numOutputs);
          const index = trace.ops.length;
          trace.ops.push({ name, attrs, inputs: [...inputs], outputs: outputs.map((m) => ({ id: m.id, shape: [...m.shape], dtype: m.dtype })) });
          outputs.forEach((m, k) => trace.produced.set(m.id, [index, k]));
          return outputs;
        },
      },
      createTensor: {
        value: (shape: number[], dtype: number, values: Values): number => {
          const id = binding.createTensor(shape, dtype, values);
          trace.consts.set(id, { shape: [...shape], dtype, values: values.slice() });
          return id;
        },
      },
      tensorDataSync: {
        value: (id: number): Values => {
          const values = binding.tensorDataSync(id);
          trace.reads.push({ id, values: values.slice() });
          return values;
        },
      },
    });
    const getIds = backend.getInputTensorIds;
    const recordIds = (tensors: tf.Tensor[]): number[] => {
      const ids = getIds.call(backend, tensors);
      tensors.forEach((t, k) => trace.meta.set(ids[k], { shape: [...t.shape], dtype: dtypeCode(binding, t.dtype) }));
      return ids;
    };
    this.active = trace;
    backend.binding = recorder;
    backend.getInputTensorIds = recordIds;
    let result: tf.Tensor;
    try {
      result = step();
      trace.result = this.idOf(result);
    } finally {
      backend.binding = binding;
      delete (backend as Partial<NodeBackend>).getInputTensorIds; // back to the prototype's
      this.active = undefined;
    }
    const after = Object.values(tf.engine().registeredVariables) as tf.Variable[];
    for (const v of after) {
      if (v.isDisposed) continue;
      const before = varsBefore.get(v);
      if (before === undefined) {
        trace.unusable = 'the step creates variables';
        continue;
      }
      const now = this.idOf(v);
      if (now !== before) trace.assigned.push([v, now]);
    }
    if (trace.unusable === undefined) this.describe(trace);
    return { trace, result };
  }

  /** Token of a tensor id inside a trace (see {@link describe}). */
  private token(trace: Trace, id: number, varOf: Map<number, tf.Variable>): string {
    const produced = trace.produced.get(id);
    if (produced !== undefined) return `o${produced[0]}.${produced[1]}`;
    const feed = trace.feeds.indexOf(id);
    if (feed >= 0) return `f${feed}`;
    const variable = varOf.get(id);
    if (variable !== undefined) return `v${this.variableNumber(variable)}`;
    const c = trace.consts.get(id);
    if (c !== undefined) return `c${c.dtype}[${c.shape}]${digest(c.values)}`;
    return `x${id}`; // a tensor made before the step and kept (immutable): baked in as a constant
  }

  /** Fills `trace.structure`: everything a graph built from the trace depends on. */
  private describe(trace: Trace): void {
    const varOf = variablesById(trace);
    const parts: string[] = [`feeds ${trace.feeds.length}`];
    for (const op of trace.ops) {
      parts.push(`${op.name}(${op.inputs.map((id) => this.token(trace, id, varOf)).join(',')})${JSON.stringify(op.attrs)}`);
    }
    parts.push(`result ${this.token(trace, trace.result, varOf)}`);
    for (const [v, id] of trace.assigned) parts.push(`assign v${this.variableNumber(v)} ← ${this.token(trace, id, varOf)}`);
    for (const read of trace.reads) parts.push(`read ${this.token(trace, read.id, varOf)}`);
    trace.structure = parts.join('\n');
  }

  /** Builds, writes and loads the graph of a trace. */
  private compile(trace: Trace): Compiled {
    const pb = proto();
    const binding = this.backend.binding;
    const varOf = variablesById(trace);

    const shapeProto = (shape: number[]): Proto => {
      const s = new pb.TensorShape();
      for (const d of shape) {
        const dim = new pb.TensorShape.Dim();
        dim.setSize(d);
        s.addDim(dim);
      }
      return s;
    };
    const typeAttr = (dtype: number): Proto => {
      const a = new pb.AttrValue();
      a.setType(dtype);
      return a;
    };
    const shapeAttr = (shape: number[]): Proto => {
      const a = new pb.AttrValue();
      a.setShape(shapeProto(shape));
      return a;
    };
    const attrProto = (attr: OpAttr): Proto => {
      const a = new pb.AttrValue();
      const { type, value } = attr;
      if (Array.isArray(value) && type !== binding.TF_ATTR_SHAPE) {
        const list = new pb.AttrValue.ListValue();
        for (const e of value) {
          if (type === binding.TF_ATTR_INT) list.addI(e);
          else if (type === binding.TF_ATTR_FLOAT) list.addF(e);
          else if (type === binding.TF_ATTR_BOOL) list.addB(e);
          else if (type === binding.TF_ATTR_TYPE) list.addType(e);
          else throw new Error(`attribute ${attr.name}: a list of type ${type}`);
        }
        a.setList(list);
      } else if (type === binding.TF_ATTR_STRING) a.setS(Buffer.from(String(value)));
      else if (type === binding.TF_ATTR_INT) a.setI(value as number);
      else if (type === binding.TF_ATTR_FLOAT) a.setF(value as number);
      else if (type === binding.TF_ATTR_BOOL) a.setB(value as boolean);
      else if (type === binding.TF_ATTR_TYPE) a.setType(value as number);
      else if (type === binding.TF_ATTR_SHAPE) return shapeAttr(value as number[]);
      else throw new Error(`attribute ${attr.name}: type ${type}`);
      return a;
    };
    const graph = new pb.GraphDef();
    const versions = new pb.VersionDef();
    versions.setProducer(1205); // TensorFlow 2.15's GraphDef version
    graph.setVersions(versions);
    const node = (name: string, op: string, inputs: string[], attrs: Record<string, Proto>): void => {
      const n = new pb.NodeDef();
      n.setName(name);
      n.setOp(op);
      for (const i of inputs) n.addInput(i);
      for (const [k, v] of Object.entries(attrs)) n.getAttrMap().set(k, v);
      graph.addNode(n);
    };
    const constNode = (name: string, c: ConstRecord): void => {
      const t = new pb.Tensor();
      t.setDtype(c.dtype);
      t.setTensorShape(shapeProto(c.shape));
      t.setTensorContent(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength));
      const value = new pb.AttrValue();
      value.setTensor(t);
      node(name, 'Const', [], { value, dtype: typeAttr(c.dtype) });
    };

    // Which ops the fetches need.
    const fetchIds = [trace.result, ...trace.assigned.map(([, id]) => id), ...trace.reads.map((r) => r.id)];
    const needed = new Set<number>();
    const stack = [...fetchIds];
    while (stack.length > 0) {
      const produced = trace.produced.get(stack.pop()!);
      if (produced === undefined || needed.has(produced[0])) continue;
      needed.add(produced[0]);
      stack.push(...trace.ops[produced[0]].inputs);
    }

    // Placeholders (the feeds, then each variable read, as first referenced) and constants.
    const inputs: Compiled['inputs'] = [];
    const names = new Map<number, string>();
    const placeholder = (id: number, meta: { shape: number[]; dtype: number }, what: Compiled['inputs'][number]): void => {
      const name = `in${inputs.length}`;
      node(name, 'Placeholder', [], { dtype: typeAttr(meta.dtype), shape: shapeAttr(meta.shape) });
      inputs.push(what);
      names.set(id, `${name}:0`);
    };
    const external = (id: number): { shape: number[]; dtype: number } => {
      const info = trace.meta.get(id);
      if (info === undefined) throw new Error(`no shape known for tensor ${id} of the step`);
      return info;
    };
    trace.feeds.forEach((id, index) => {
      const c = trace.consts.get(id);
      placeholder(id, c ?? external(id), { kind: 'feed', index });
    });
    let constants = 0;
    const ref = (id: number): string => {
      const known = names.get(id);
      if (known !== undefined) return known;
      const produced = trace.produced.get(id);
      if (produced !== undefined) return `op${produced[0]}:${produced[1]}`;
      const variable = varOf.get(id);
      if (variable !== undefined) {
        placeholder(id, { shape: variable.shape, dtype: dtypeCode(binding, variable.dtype) }, { kind: 'variable', variable });
        return names.get(id)!;
      }
      const name = `const${constants++}`;
      const c = trace.consts.get(id);
      if (c !== undefined) constNode(name, c);
      else {
        const meta = external(id);
        constNode(name, { ...meta, values: binding.tensorDataSync(id).slice() });
      }
      names.set(id, `${name}:0`);
      return names.get(id)!;
    };
    for (const index of [...needed].sort((a, b) => a - b)) {
      const op = trace.ops[index];
      const inputNames = op.inputs.map(ref);
      node(`op${index}`, op.name, inputNames, Object.fromEntries(op.attrs.map((a) => [a.name, attrProto(a)])));
    }
    const fetches = fetchIds.map(ref);

    const saved = new pb.SavedModel();
    saved.setSavedModelSchemaVersion(1);
    const meta = new pb.MetaGraphDef();
    const info = new pb.MetaGraphDef.MetaInfoDef();
    info.addTags('serve');
    meta.setMetaInfoDef(info);
    meta.setGraphDef(graph);
    saved.addMetaGraphs(meta);
    const dir = mkdtempSync(join(tmpdir(), 'hyperlab-step-'));
    let session: number;
    try {
      writeFileSync(join(dir, 'saved_model.pb'), saved.serializeBinary());
      session = this.backend.loadSavedModelMetaGraph(dir, 'serve');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      session,
      inputNames: inputs.map((_, k) => `in${k}:0`).join(','),
      outputNames: fetches.join(','),
      inputs,
      assigned: trace.assigned.map(([v]) => v),
      guards: trace.reads.map((r, k) => ({ fetch: 1 + trace.assigned.length + k, values: r.values })),
    };
  }

  /** A compiled run; undefined if a read-back guard failed (nothing was assigned). */
  private runCompiled(compiled: Compiled, feeds: readonly tf.Tensor[], scalarValues: number[]): tf.Tensor | undefined {
    const scalars = scalarValues.map((v) => tf.scalar(v, 'float32'));
    try {
      const all = [...feeds, ...scalars];
      const ids = compiled.inputs.map((input) => this.idOf(input.kind === 'feed' ? all[input.index] : input.variable));
      const metadata = this.backend.binding.runSavedModel(compiled.session, ids, compiled.inputNames, compiled.outputNames);
      const outputs = metadata.map((m) => this.backend.createOutputTensor(m));
      const ok = compiled.guards.every((g) => sameValues(outputs[g.fetch].dataSync() as Values, g.values));
      if (!ok) {
        outputs.forEach((t) => t.dispose());
        return undefined;
      }
      compiled.assigned.forEach((v, k) => v.assign(outputs[1 + k]));
      outputs.slice(1).forEach((t) => t.dispose());
      return outputs[0];
    } finally {
      scalars.forEach((s) => s.dispose());
    }
  }
}

function dtypeCode(binding: Binding, dtype: tf.DataType): number {
  if (dtype === 'float32') return binding.TF_FLOAT;
  if (dtype === 'int32') return binding.TF_INT32;
  if (dtype === 'bool') return binding.TF_BOOL;
  throw new Error(`dtype ${dtype} in a compiled step`);
}

/** Tensor id → the variable that held it before the step (the first, if several shared it). */
function variablesById(trace: Trace): Map<number, tf.Variable> {
  const varOf = new Map<number, tf.Variable>();
  for (const [v, id] of trace.varsBefore) if (!varOf.has(id)) varOf.set(id, v);
  return varOf;
}
