// Node side of test_safetensors_interop.py, driving the built safetensors module.
//   node safetensors_node.js write FILE   writes a fixed set of tensors (+ metadata) to FILE and
//                                         prints what it wrote as JSON
//   node safetensors_node.js read FILE    decodes FILE and prints its tensors and metadata as JSON
// Float values travel as their float32 bit patterns (uint32), so comparisons are exact, NaN and
// -0 included. Exits 1 with the error message on stderr when decoding fails.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
require('@tensorflow/tfjs-backend-cpu');
const tf = require('@tensorflow/tfjs-core');

const dist = path.join(__dirname, '..', 'dist');
const { encodeSafetensors, decodeSafetensors } = require(path.join(dist, 'io', 'safetensors.js'));
const { Rng } = require(path.join(dist, 'random.js'));

function describe(tensor) {
  const data = tensor.dataSync();
  const values = tensor.dtype === 'float32' ? Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length)) : Array.from(data);
  return { dtype: tensor.dtype, shape: tensor.shape, values };
}

async function main() {
  const [command, file] = process.argv.slice(2);
  await tf.setBackend('cpu');
  if (command === 'write') {
    const rng = new Rng(20240601);
    const weight = rng.fillNormal(new Float32Array(4 * 5));
    weight.set([0, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, -1.1754943508222875e-38]);
    const tensors = {
      'encoder.0.weight': tf.tensor(weight, [4, 5]),
      'encoder.0.bias': tf.tensor(rng.fillUniform(new Float32Array(5), -1, 1), [5]),
      'scale': tf.scalar(Math.PI),
      'token_ids': tf.tensor(Int32Array.from([0, 1, -1, 2147483647, -2147483648, 42]), [2, 3], 'int32'),
      'mask': tf.tensor([true, false, false, true], [2, 2], 'bool'),
      'empty': tf.zeros([0, 3]),
    };
    fs.writeFileSync(file, encodeSafetensors(tensors, { framework: 'hyperlab' }));
    const out = { metadata: { framework: 'hyperlab' }, tensors: {} };
    for (const [name, tensor] of Object.entries(tensors)) out.tensors[name] = describe(tensor);
    process.stdout.write(JSON.stringify(out));
  } else if (command === 'read') {
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file));
    const out = { metadata, tensors: {} };
    for (const [name, tensor] of tensors) out.tensors[name] = describe(tensor);
    process.stdout.write(JSON.stringify(out));
  } else {
    throw new Error(`usage: node safetensors_node.js write|read FILE (got ${command})`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
