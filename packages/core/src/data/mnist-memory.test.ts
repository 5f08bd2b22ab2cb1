// In its own file, so that it runs in a fresh process with nothing cached or allocated before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMnist } from './mnist.js';

test('loading MNIST train grows ArrayBuffer memory by about one float32 copy of the images', (t) => {
  const oneCopy = 60000 * 784 * 4; // 188,160,000 bytes
  const before = process.memoryUsage();
  const start = performance.now();
  const train = loadMnist({ split: 'train', normalize: 'standard' });
  const ms = performance.now() - start;
  const after = process.memoryUsage();
  const grewBuffers = after.arrayBuffers - before.arrayBuffers;
  const grewRss = after.rss - before.rss;
  t.diagnostic(`load ${ms.toFixed(0)} ms; arrayBuffers +${(grewBuffers / 1e6).toFixed(1)} MB, rss +${(grewRss / 1e6).toFixed(1)} MB (one copy: ${(oneCopy / 1e6).toFixed(1)} MB)`);
  assert.equal(train.features.byteLength, oneCopy);
  assert.ok(grewBuffers >= oneCopy, `arrayBuffers grew by ${grewBuffers}, less than the data itself`);
  assert.ok(grewBuffers < 1.3 * oneCopy, `arrayBuffers grew by ${grewBuffers} bytes, more than 1.3 × ${oneCopy}`);
  assert.ok(grewRss < 1.3 * oneCopy, `rss grew by ${grewRss} bytes, more than 1.3 × ${oneCopy}`);
});
