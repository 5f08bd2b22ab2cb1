import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { flatten, variable, type Params } from '../params/params.js';
import { decodeSafetensors, encodeSafetensors, loadInto, loadParams, saveParams } from './safetensors.js';

/** Builds a file by hand: header object (padded as the format says) and a raw data buffer. */
function rawFile(header: Record<string, unknown>, data: Uint8Array, pad = true): Uint8Array {
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-st-'));
}

testOnBackends('encode → decode round-trips float32, int32 and bool exactly, with metadata', () => {
  const rng = new Rng(3);
  const floats = rng.fillNormal(new Float32Array(5 * 7));
  floats.set([0, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38], 0);
  const ints = Int32Array.from([0, 1, -1, 2147483647, -2147483648, 12345]);
  const tensors = {
    'layer.weight': tf.tensor(floats, [5, 7]),
    'layer.bias': tf.tensor(new Float32Array([Math.PI]), [1]),
    scalar: tf.scalar(2.5),
    nan: tf.tensor([NaN, 1], [2]),
    ids: tf.tensor(ints, [2, 3], 'int32'),
    mask: tf.tensor([true, false, true], [3], 'bool'),
    empty: tf.zeros([0, 4]),
  };
  const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'héllo ✓' });
  const { tensors: back, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { format: 'pt', note: 'héllo ✓' });
  assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
  for (const [name, original] of Object.entries(tensors)) {
    const decoded = back.get(name)!;
    assert.equal(decoded.dtype, original.dtype, name);
    assert.deepEqual(decoded.shape, original.shape, name);
    // Bitwise equality (keeps -0 and NaN honest).
    assert.deepEqual(bytesOf(decoded.dataSync()), bytesOf(original.dataSync()), name);
  }
  // A Node Buffer at an odd offset inside a larger allocation (as fs and pools hand out) decodes alike.
  const shifted = Buffer.concat([Buffer.from('xyz'), Buffer.from(bytes), Buffer.from('tail')]).subarray(3, 3 + bytes.length);
  assert.equal(shifted.byteOffset % 4, 3);
  const fromBuffer = decodeSafetensors(shifted).tensors;
  for (const [name, original] of Object.entries(tensors)) {
    assert.deepEqual(bytesOf(fromBuffer.get(name)!.dataSync()), bytesOf(original.dataSync()), `${name} from a Buffer`);
  }
  tf.dispose([...Object.values(tensors), ...back.values(), ...fromBuffer.values()]);
});

test('the layout matches Python safetensors: 8-byte length, space-padded header, dtype-then-name order', async () => {
  await useBackend('cpu');
  const tensors = new Map<string, tf.Tensor>([
    ['b', tf.tensor([1, 2], [2], 'int32')],
    ['a', tf.tensor([true], [1], 'bool')],
    ['z', tf.tensor([0.5], [1])],
    ['c', tf.tensor([1.5, 2.5], [2])],
  ]);
  const bytes = encodeSafetensors(tensors, { k: 'v' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  assert.equal(
    header.trimEnd(),
    '{"__metadata__":{"k":"v"},"c":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"b":{"dtype":"I32","shape":[2],"data_offsets":[12,20]},"a":{"dtype":"BOOL","shape":[1],"data_offsets":[20,21]}}',
  );
  assert.equal(bytes.length, 8 + n + 21);
  tf.dispose([...tensors.values()]);
});

test('F16, BF16, F64 and the integer dtypes decode to the right values', async () => {
  await useBackend('cpu');
  // F16 bit patterns: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), +inf, -0, 0.333 (0x3555).
  const f16 = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0x8000, 0x3555]);
  const f16Expected = [1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -0, 0.333251953125];
  // BF16 bit patterns: 1, -2, pi ≈ 3.140625 (0x4049), ≈9.97e37 (0x7e96), smallest subnormal (0x0001), -inf.
  const bf16 = Uint16Array.from([0x3f80, 0xc000, 0x4049, 0x7e96, 0x0001, 0xff80]);
  const bf16Expected = [1, -2, 3.140625, 9.969209968386869e37, 9.183549615799121e-41, -Infinity];
  const f64 = Float64Array.from([0.1, -1e300, 1 / 3]);
  const i64 = BigInt64Array.from([0n, -1n, 2147483647n, -2147483648n]);
  const i16 = Int16Array.from([-32768, 32767, -1]);
  const i8 = Int8Array.from([-128, 127, 0]);
  const u8 = Uint8Array.from([0, 200, 255]);
  const u16 = Uint16Array.from([65535, 1]);
  const parts: Array<[string, string, number[], ArrayBufferView]> = [
    ['a_f16', 'F16', [8], f16],
    ['b_bf16', 'BF16', [2, 3], bf16],
    ['c_f64', 'F64', [3], f64],
    ['d_i64', 'I64', [4], i64],
    ['e_i16', 'I16', [3], i16],
    ['f_i8', 'I8', [3], i8],
    ['g_u8', 'U8', [3], u8],
    ['h_u16', 'U16', [2], u16],
    ['i_bool', 'BOOL', [3], Uint8Array.from([1, 0, 1])],
  ];
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, dtype, shape, data] of parts) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    chunks.push(bytesOf(data));
    offset += data.byteLength;
  }
  const { tensors } = decodeSafetensors(rawFile(header, Buffer.concat(chunks)));
  const values = (name: string): number[] => Array.from(tensors.get(name)!.dataSync());
  assert.deepEqual(values('a_f16'), f16Expected);
  assert.ok(Object.is(values('a_f16')[6], -0));
  assert.deepEqual(values('b_bf16'), bf16Expected);
  assert.deepEqual(tensors.get('b_bf16')!.shape, [2, 3]);
  assert.deepEqual(values('c_f64'), Array.from(Float32Array.from(f64)));
  assert.deepEqual(values('d_i64'), [0, -1, 2147483647, -2147483648]);
  assert.deepEqual(values('e_i16'), [-32768, 32767, -1]);
  assert.deepEqual(values('f_i8'), [-128, 127, 0]);
  assert.deepEqual(values('g_u8'), [0, 200, 255]);
  assert.deepEqual(values('h_u16'), [65535, 1]);
  assert.deepEqual(values('i_bool'), [1, 0, 1]);
  for (const name of ['a_f16', 'b_bf16', 'c_f64']) assert.equal(tensors.get(name)!.dtype, 'float32');
  for (const name of ['d_i64', 'e_i16', 'f_i8', 'g_u8', 'h_u16']) assert.equal(tensors.get(name)!.dtype, 'int32');
  assert.equal(tensors.get('i_bool')!.dtype, 'bool');
  tf.dispose([...tensors.values()]);
});

test('I64 values that do not fit (beyond 2^53, or beyond int32) are errors naming the tensor', async () => {
  await useBackend('cpu');
  const file = (value: bigint): Uint8Array =>
    rawFile({ ok: { dtype: 'I32', shape: [1], data_offsets: [0, 4] }, 'big.one': { dtype: 'I64', shape: [2], data_offsets: [4, 20] } }, Buffer.concat([Buffer.alloc(4), bytesOf(BigInt64Array.from([1n, value]))]));
  assert.throws(() => decodeSafetensors(file(2n ** 53n + 1n)), /tensor "big\.one": I64 value 9007199254740993 at index 1 is beyond 2\^53/);
  assert.throws(() => decodeSafetensors(file(-(2n ** 60n))), /tensor "big\.one".*beyond 2\^53/);
  assert.throws(() => decodeSafetensors(file(2n ** 31n)), /tensor "big\.one": I64 value 2147483648 at index 1 does not fit in int32/);
  const before = tf.memory().numTensors;
  assert.throws(() => decodeSafetensors(file(2n ** 40n)));
  assert.equal(tf.memory().numTensors, before, 'tensors decoded before the error are disposed');
});

test('malformed files are rejected with messages naming the tensor and the problem', async () => {
  await useBackend('cpu');
  const f32 = (n: number): Uint8Array => bytesOf(new Float32Array(n));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['too short', new Uint8Array(5), /too short for the 8-byte header length/],
    ['header longer than the file', (() => { const b = rawFile({}, new Uint8Array(0)); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /header length 1000 exceeds the \d+ bytes/],
    ['huge header length', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true); return b; })(), /header length 9223372036854775808 exceeds/],
    ['bad JSON', (() => { const b = rawFile({}, new Uint8Array(0)); b.set(Buffer.from('{"a":'), 8); return b; })(), /header is not valid JSON/],
    ['not an object', rawFile([1, 2] as unknown as Record<string, unknown>, new Uint8Array(0)), /header is not a JSON object/],
    ['unknown dtype', rawFile({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "w": unsupported dtype "C64"/],
    ['bad shape', rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /tensor "w": shape \[-1\] is not a list of non-negative integers/],
    ['bad offsets', rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), /tensor "w": data_offsets \[0\] is not a pair/],
    ['reversed offsets', rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)), /tensor "w": data_offsets \[4, 0\] end before they begin/],
    ['size mismatch', rawFile({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, f32(5)), /tensor "w": 20 bytes in data_offsets \[0, 20\], but shape \[2, 3\] of F32 needs 24/],
    ['out of range', rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)), /tensor "w": data_offsets \[0, 16\] run past the end of the 8-byte data buffer/],
    ['overlap', rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(3)), /tensor "b": data_offsets \[4, 12\] overlap "a"/],
    ['gap', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(3)), /tensor "b": data_offsets \[8, 12\] leave a gap of 4 bytes after "a"/],
    ['trailing bytes', rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /4 trailing bytes after the last tensor \("a"/],
    ['non-string metadata', rawFile({ __metadata__: { epoch: 3 } }, new Uint8Array(0)), /metadata "epoch" must be a string/],
    ['entry not an object', rawFile({ w: 3 }, new Uint8Array(0)), /tensor "w": entry is not an object/],
  ];
  for (const [what, bytes, message] of cases) assert.throws(() => decodeSafetensors(bytes), message, what);
});

test('encoding rejects dtypes and names it cannot store, naming the tensor', async () => {
  await useBackend('cpu');
  const c = tf.complex([1], [2]);
  assert.throws(() => encodeSafetensors({ 'my.complex': c }), /tensor "my\.complex" has dtype complex64/);
  const s = tf.scalar(1);
  assert.throws(() => encodeSafetensors({ __metadata__: s }), /"__metadata__" is reserved/);
  assert.throws(() => encodeSafetensors({ s }, { n: 1 as unknown as string }), /metadata "n" must be a string/);
  tf.dispose([c, s]);
});

function makeParams(rng: Rng): Params {
  return {
    encoder: {
      '0': { weight: variable(tf.tensor(rng.fillNormal(new Float32Array(12)), [3, 4]), 'w0'), bias: variable(tf.zeros([4]), 'b0') },
      '1': { weight: variable(tf.tensor(rng.fillNormal(new Float32Array(8)), [4, 2]), 'w1') },
    },
    step: variable(tf.scalar(7, 'int32'), 'step', false),
  };
}

testOnBackends('saveParams → loadParams rebuilds the tree with equal variables', () => {
  const dir = tmpdir();
  const file = path.join(dir, 'model.safetensors');
  const params = makeParams(new Rng(1));
  saveParams(params, file, { arch: 'mlp' });
  assert.deepEqual(fs.readdirSync(dir), ['model.safetensors'], 'no temp file is left behind');
  assert.deepEqual(decodeSafetensors(fs.readFileSync(file)).metadata, { arch: 'mlp' });
  const loaded = loadParams(file);
  const a = flatten(params);
  const b = flatten(loaded);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [key, value] of a) {
    const other = b.get(key)!;
    assert.ok(other instanceof tf.Variable, key);
    assert.equal(other.dtype, value.dtype, key);
    assert.deepEqual(other.shape, value.shape, key);
    assert.deepEqual(Array.from(other.dataSync()), Array.from(value.dataSync()), key);
  }
  tf.dispose([...a.values(), ...b.values()]);
  fs.rmSync(dir, { recursive: true });
});

test('saveParams is atomic: a failing save leaves the old file intact and no temp file', async () => {
  await useBackend('cpu');
  const dir = tmpdir();
  const file = path.join(dir, 'model.safetensors');
  const params = makeParams(new Rng(2));
  saveParams(params, file);
  const before = fs.readFileSync(file);
  const broken: Params = { ok: variable(tf.ones([2]), 'ok'), bad: variable(tf.complex([1], [1]), 'bad') };
  assert.throws(() => saveParams(broken, file), /tensor "bad" has dtype complex64/);
  assert.deepEqual(fs.readFileSync(file), before);
  assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
  // A failure while writing (the target is a directory: rename fails) also leaves no temp file.
  const target = path.join(dir, 'sub');
  fs.mkdirSync(path.join(target, 'x'), { recursive: true });
  assert.throws(() => saveParams(params, target));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.safetensors', 'sub']);
  tf.dispose([...flatten(params).values(), ...flatten(broken).values()]);
  fs.rmSync(dir, { recursive: true });
});

test('loadInto copies values in place and names every missing, unexpected and mismatched key at once', async () => {
  await useBackend('cpu');
  const dir = tmpdir();
  const file = path.join(dir, 'model.safetensors');
  const source = makeParams(new Rng(3));
  saveParams(source, file);

  const target = makeParams(new Rng(4));
  const weight = (target.encoder as Params)['0'] as Params;
  const variableBefore = weight.weight;
  const report = loadInto(target, file);
  assert.equal(weight.weight, variableBefore, 'the same Variable object is updated');
  assert.deepEqual(report.loaded.sort(), [...flatten(source).keys()].sort());
  for (const [key, value] of flatten(source)) assert.deepEqual(Array.from(flatten(target).get(key)!.dataSync()), Array.from(value.dataSync()), key);
  assert.equal(flatten(target).get('step')!.trainable, false, 'trainable flags are kept');

  const other: Params = {
    encoder: {
      '0': { weight: variable(tf.zeros([4, 3]), 'w'), bias: variable(tf.zeros([4]), 'b') },
      '2': { weight: variable(tf.zeros([1]), 'w2') },
    },
    step: variable(tf.scalar(0), 'step-f32'),
  };
  const error = (() => {
    try {
      loadInto(other, file);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  })();
  assert.match(error, /missing from the file: encoder\.2\.weight/);
  assert.match(error, /unexpected in the file: encoder\.1\.weight/);
  assert.match(error, /encoder\.0\.weight \(file \[3, 4\], params \[4, 3\]\)/);
  assert.match(error, /step \(file int32, params float32\)/);
  assert.deepEqual(Array.from(flatten(other).get('encoder.0.bias')!.dataSync()), [0, 0, 0, 0], 'nothing is assigned when there is an error');

  const partial: Params = { encoder: { '0': { bias: variable(tf.ones([4]), 'b') }, extra: variable(tf.ones([1]), 'e') } };
  const lenient = loadInto(partial, file, { strict: false });
  assert.deepEqual(lenient.loaded, ['encoder.0.bias']);
  assert.deepEqual(lenient.missing, ['encoder.extra']);
  assert.deepEqual(lenient.unexpected.sort(), ['encoder.0.weight', 'encoder.1.weight', 'step']);
  assert.throws(() => loadInto(partial, file), /missing from the file: encoder\.extra.*unexpected in the file/);
  tf.dispose([...flatten(source).values(), ...flatten(target).values(), ...flatten(other).values(), ...flatten(partial).values()]);
  fs.rmSync(dir, { recursive: true });
});
