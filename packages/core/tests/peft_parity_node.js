// HyperLab side of test_peft_parity.py, driving the built library (packages/core/dist).
//
//   node peft_parity_node.js JOB.json
//
// JOB.json:
//   { "backend": "cpu" | "wasm" | "node",
//     "sizes": [16, 32, 8],                 the mlp (children '0', '1', … : PyTorch layout)
//     "base": "base.safetensors",           base weights: read with `from: "file"` (written by
//                                           Python), or written here with `from: "init"` (HyperLab's
//                                           own init, seed `seed`)
//     "from": "file" | "init",
//     "input": "x.safetensors",             tensor 'x' [batch, sizes[0]]
//     "load": "DIR"                         optional: loadAdapter(DIR) (saved by PEFT)
//     "config": {...}, "save": "DIR",       optional: addAdapter(config), every adapter leaf set to
//                                           seeded random values (frozen VeRA projections kept),
//                                           then saveAdapter(DIR)
//     "hyper": { numTasks, task, r, loraAlpha, targetModules }, "save": "DIR"
//                                           optional: a hyperLora generator's adapter for `task`,
//                                           materialised and saved (out.generated: the generator's
//                                           own forward for that task)
//     "corda": { "config": {...}, "calibration": "calib.safetensors" }
//                                           optional: a CorDA-initialised LoRA (addCordaAdapter) from the
//                                           calibration batches (tensors x0, x1, … in name order);
//                                           out.factors: each layer's lora_A, lora_B; out.residual: its
//                                           base weight after the init
//     "seed": 1 }
//
// Prints JSON: { backend, outputs: number[][] (adapted forward), base: number[][] (adapters
// disabled), merged: number[][] (after merge(), when the method can merge), keys: saved/loaded
// PEFT keys, trainable: trainableParameters(params).trainable }. float32 values are printed as
// doubles, which JSON carries exactly.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const tf = require('@tensorflow/tfjs-core');

const core = require(path.join(__dirname, '..', 'dist', 'index.js'));

function randomize(record, rng) {
  for (const leaf of record.leaves) {
    if (!leaf.trainable) continue; // VeRA's shared projections stay as HyperLab drew them
    const values = rng.fork(leaf.path).fillNormal(new Float32Array(leaf.variable.size), 0, 0.2);
    if (/lora_magnitude_vector/.test(leaf.path)) for (let i = 0; i < values.length; i++) values[i] = 0.5 + Math.abs(values[i]);
    if (/ia3_l/.test(leaf.path)) for (let i = 0; i < values.length; i++) values[i] += 1;
    leaf.variable.assign(tf.tensor(values, leaf.variable.shape));
  }
}

function rows(tensor) {
  return tensor.arraySync();
}

async function main() {
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const info = await core.setBackend(job.backend);
  if (info.name !== job.backend) throw new Error(`asked for backend ${job.backend}, got ${info.name}`);
  const model = core.mlp({ sizes: job.sizes });
  const params = model.init(new core.Rng(job.seed ?? 0).fork('init'));
  if (job.from === 'file') core.loadInto(params, job.base);
  else core.saveParams(params, job.base);

  const { tensors } = core.decodeSafetensors(new Uint8Array(fs.readFileSync(job.input)));
  const x = tensors.get('x');
  if (!x) throw new Error(`${job.input} has no tensor 'x'`);

  let record;
  let generated;
  let corda;
  if (job.load) {
    record = core.loadAdapter(job.load, model, params);
  } else if (job.config) {
    record = core.addAdapter(model, params, job.config);
    randomize(record, new core.Rng(`parity:${job.seed ?? 0}`));
    core.saveAdapter(job.save, model, params);
  } else if (job.hyper) {
    // A hypernetwork-generated LoRA (hyper/hyper-lora.ts): a generator with seeded random weights
    // (its B heads start at zero, which would make every adapter trivial) emits task `task`'s
    // adapter, written into the base as an ordinary LoRA adapter and saved in PEFT's layout.
    const generator = core.hyperLora({ base: model, targetModules: job.hyper.targetModules, numTasks: job.hyper.numTasks, r: job.hyper.r, loraAlpha: job.hyper.loraAlpha });
    const generatorParams = generator.init(new core.Rng(`hyper:${job.seed ?? 0}`));
    for (const [leafPath, leaf] of core.flatten(generatorParams)) {
      leaf.assign(tf.tensor(new core.Rng(`hyper-weights:${leafPath}`).fillNormal(new Float32Array(leaf.size), 0, 0.2), leaf.shape));
    }
    generated = rows(tf.tidy(() => generator.apply(generatorParams, params, x, job.hyper.task)));
    record = core.materializeAdapter(generator, generatorParams, model, params, job.hyper.task, 'default');
    core.saveAdapter(job.save, model, params);
  } else if (job.corda) {
    const { tensors: calibration } = core.decodeSafetensors(new Uint8Array(fs.readFileSync(job.corda.calibration)));
    const batches = [...calibration.keys()].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).map((k) => calibration.get(k));
    record = core.addCordaAdapter(model, params, job.corda.config, batches);
    const flat = core.flatten(params);
    corda = { factors: {}, residual: {} };
    for (const layer of record.layers) {
      corda.factors[layer] = { A: rows(flat.get(`${layer}.lora_A.default.weight`)), B: rows(flat.get(`${layer}.lora_B.default.weight`)) };
      corda.residual[layer] = rows(flat.get(`${layer}.weight`));
    }
  } else {
    throw new Error('job needs "load", "config", "hyper" or "corda"');
  }
  const out = { backend: info.name, keys: [...core.adapterStateDict(record).keys()].sort(), trainable: core.trainableParameters(params).trainable };
  out.outputs = rows(tf.tidy(() => model.apply(params, x)));
  if (generated) out.generated = generated;
  if (corda) Object.assign(out, corda);
  core.disableAdapters(model);
  out.base = rows(tf.tidy(() => model.apply(params, x)));
  core.enableAdapters(model);
  if (record.method.mergeable) {
    core.merge(model, params);
    out.merged = rows(tf.tidy(() => model.apply(params, x)));
    core.unmerge(model, params);
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
