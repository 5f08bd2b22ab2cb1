import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendInfo, registerBackends, setBackend, type BackendName } from './backend.js';

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

const noTfjsNode = { skip: tfjsNodeInstalled() ? '@tensorflow/tfjs-node is installed here' : false };

test("setBackend('auto') picks wasm and says why node was skipped", noTfjsNode, async () => {
  const info = await setBackend();
  assert.equal(info.name, 'wasm');
  assert.equal(info.requested, 'auto');
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(info.fallbacks.map((f) => f.name), ['node']);
  assert.match(info.fallbacks[0].error, /not installed/);
  assert.match(info.reason, /node skipped: not installed/);
  assert.match(info.reason, /using wasm/);
  assert.equal(typeof info.simd, 'boolean');
  assert.equal(typeof info.threads, 'boolean');
  assert.equal(info.tfjsVersion, tf.version_core);
  assert.deepEqual(backendInfo(), info);
});

test('setBackend is idempotent and serialised', async () => {
  const first = await setBackend('auto');
  const instance = tf.backend();
  const [second, third] = await Promise.all([setBackend('auto'), setBackend('auto')]);
  assert.deepEqual(second, first);
  assert.deepEqual(third, first);
  assert.equal(tf.backend(), instance, 'the backend was not re-initialised');
});

test("explicit 'cpu' works", async () => {
  const info = await setBackend('cpu');
  assert.equal(info.name, 'cpu');
  assert.equal(info.requested, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(info.fallbacks, []);
  assert.match(info.reason, /requested explicitly/);
  assert.equal(info.simd, undefined);
  assert.equal(tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0], 6);
  assert.deepEqual(backendInfo(), info);
});

test("explicit 'wasm' works and reports SIMD and threads", async () => {
  const info = await setBackend('wasm');
  assert.equal(info.name, 'wasm');
  assert.equal(info.requested, 'wasm');
  assert.equal(typeof info.simd, 'boolean');
  assert.equal(tf.getBackend(), 'wasm');
});

test("explicit 'node' without tfjs-node rejects naming the backend and the cause", noTfjsNode, async () => {
  const before = tf.getBackend();
  await assert.rejects(setBackend('node'), (error: Error) => {
    assert.match(error.message, /Backend 'node' is unavailable/);
    assert.match(error.message, /@tensorflow\/tfjs-node/);
    assert.match(error.message, /not installed/);
    return true;
  });
  assert.equal(tf.getBackend(), before, 'a failed request leaves the active backend alone');
});

test('an unknown backend name rejects clearly', async () => {
  await assert.rejects(setBackend('webgpu' as BackendName), /Unknown backend 'webgpu': expected one of node, wasm, cpu or 'auto'/);
  // The queue keeps working after a rejection.
  assert.equal((await setBackend('cpu')).name, 'cpu');
});

test("backendInfo() after a switch with tf.setBackend reports 'set outside HyperLab'", async () => {
  await setBackend('cpu');
  await tf.setBackend('wasm');
  const info = backendInfo();
  assert.equal(info.name, 'wasm');
  assert.equal(info.reason, 'set outside HyperLab');
  assert.equal(typeof info.simd, 'boolean');
  assert.deepEqual(info.fallbacks, []);
  // Asking HyperLab again re-selects properly.
  assert.equal((await setBackend('wasm')).reason.startsWith('requested explicitly'), true);
});

test('registerBackends runs once and reports what it installed', () => {
  const first = registerBackends();
  const second = registerBackends();
  assert.equal(second, first);
  assert.deepEqual(first.kernels.hyperlab.sort(), ['Conv2DBackpropFilter', 'Einsum', 'UnsortedSegmentSum']);
  assert.deepEqual(first.kernels.native, []);
  assert.deepEqual(first.gradients.tfjs.failed, []);
  assert.ok(first.gradients.tfjs.registered.length > 90, `${first.gradients.tfjs.registered.length} tfjs gradients`);
  assert.deepEqual(first.gradients.hyperlab.sort(), ['Conv2D', 'Einsum']);
});
