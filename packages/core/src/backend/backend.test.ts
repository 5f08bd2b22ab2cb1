import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NATIVE_PROBLEM } from '../testing/backends.js';
import { backendInfo, registerBackends, setBackend, setNativeModuleName, type BackendName } from './backend.js';

/** Runs `body` with the native loader pointed at a module that does not exist. */
async function withoutTfjsNode(body: () => Promise<void>): Promise<void> {
  const previous = setNativeModuleName('@hyperlab/no-such-native-module');
  try {
    await body();
  } finally {
    setNativeModuleName(previous);
  }
}

test("setBackend('auto') without tfjs-node picks wasm and says why node was skipped", async () => {
  await withoutTfjsNode(async () => {
    await setBackend('cpu'); // so that 'auto' selects again
    const info = await setBackend();
    assert.equal(info.name, 'wasm');
    assert.equal(info.requested, 'auto');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(info.fallbacks.map((f) => f.name), ['node']);
    assert.match(info.fallbacks[0].error, /not installed .*@hyperlab\/no-such-native-module.*setup-native\.sh/);
    assert.match(info.reason, /node skipped: not installed/);
    assert.match(info.reason, /using wasm/);
    assert.equal(typeof info.simd, 'boolean');
    assert.equal(typeof info.threads, 'boolean');
    assert.equal(info.tfjsVersion, tf.version_core);
    assert.deepEqual(backendInfo(), info);
  });
});

test("explicit 'node' without tfjs-node rejects naming the backend and the cause", async () => {
  await withoutTfjsNode(async () => {
    await setBackend('cpu');
    await assert.rejects(setBackend('node'), (error: Error) => {
      assert.match(error.message, /Backend 'node' is unavailable/);
      assert.match(error.message, /no-such-native-module/);
      assert.match(error.message, /not installed/);
      return true;
    });
    assert.equal(tf.getBackend(), 'cpu', 'a failed request leaves the active backend alone');
  });
});

test("setBackend('auto') picks the native backend where its addon loads, else wasm, and says why", async () => {
  await setBackend('cpu');
  const info = await setBackend();
  assert.equal(info.requested, 'auto');
  if (NATIVE_PROBLEM === undefined) {
    assert.equal(info.name, 'node');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.deepEqual(info.fallbacks, []);
    assert.match(info.reason, /^auto: using node \(native, the fastest backend present\), TensorFlow \d+\.\d+\.\d+ C library via @tensorflow\/tfjs-node, \d+ intra-op threads?$/);
    assert.equal(info.simd, undefined);
    // TensorFlow's INFO lines at load are off unless the user asked for them.
    assert.notEqual(process.env.TF_CPP_MIN_LOG_LEVEL, undefined);
    assert.equal(tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0], 6);
  } else {
    assert.equal(info.name, 'wasm');
    assert.deepEqual(info.fallbacks, [{ name: 'node', error: NATIVE_PROBLEM }]);
    assert.match(info.reason, /node skipped: /);
  }
  assert.deepEqual(backendInfo(), info);
});

test("explicit 'node' works where the addon loads, else rejects with the cause", async () => {
  if (NATIVE_PROBLEM === undefined) {
    const info = await setBackend('node');
    assert.equal(info.name, 'node');
    assert.match(info.reason, /^requested explicitly: node, TensorFlow /);
    assert.equal(tf.getBackend(), 'tensorflow');
  } else {
    await assert.rejects(setBackend('node'), /Backend 'node' is unavailable/);
  }
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
  assert.deepEqual(first.gradients.hyperlab.sort(), ['Conv2D', 'Einsum', 'Relu']);
});
