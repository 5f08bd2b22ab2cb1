import assert from 'node:assert/strict';
import { testOnBackends } from '../testing/backends.js';
import { applyBitFit } from './bitfit.js';
import { trainableParameters } from './report.js';
import { checkTrainsOnlyAdapters, smallMlp } from './test-fixtures.js';
import { mlp } from '../nn/mlp.js';
import { Rng } from '../random.js';

testOnBackends('bitfit: only biases train; count = Σ bias sizes', async () => {
  const { model, params } = smallMlp();
  assert.deepEqual(applyBitFit(model, params), ['0.bias', '1.bias']);
  assert.equal(trainableParameters(params).trainable, 5 + 4);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  const p = smallMlp();
  assert.deepEqual(applyBitFit(p.model, p.params, { targetModules: ['1'] }), ['1.bias']);
  const noBias = mlp({ sizes: [3, 2], bias: false });
  assert.throws(() => applyBitFit(noBias, noBias.init(new Rng(1))), /BitFit: the model has no bias to train/);
});
