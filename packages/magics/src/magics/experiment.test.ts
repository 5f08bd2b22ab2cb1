import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOf } from './experiment.js';

describe('%%experiment outcome', () => {
  it('takes metrics, config, curves (arrays or step/value) and data fingerprints', () => {
    const outcome = outcomeOf(
      { metrics: { acc: 0.5 }, config: { lr: 0.1 }, curves: { loss: [3, 2, 1], acc: { step: [10, 20], value: [0.4, 0.5] } }, data: [{ name: 'd', fingerprint: 'a'.repeat(64), size: 3 }], model: 'kept' },
      12,
    );
    assert.deepEqual(outcome.metrics, { acc: 0.5 });
    assert.deepEqual(outcome.curves!.loss, { step: [0, 1, 2], value: [3, 2, 1] });
    assert.deepEqual(outcome.curves!.acc, { step: [10, 20], value: [0.4, 0.5] });
    assert.equal(outcome.data![0].size, 3);
    assert.equal(outcome.value!.model, 'kept');
    assert.equal(outcome.timings.totalMs, 12);
  });

  it('names what is wrong', () => {
    assert.throws(() => outcomeOf(undefined, 0), /must end with an expression like .*got no value/);
    assert.throws(() => outcomeOf({ metric: 1 }, 0), /metrics must be a non-empty object/);
    assert.throws(() => outcomeOf({ metrics: { acc: '0.5' } }, 0), /metrics\.acc must be a number, got string/);
    assert.throws(() => outcomeOf({ metrics: { a: 1 }, curves: { loss: { step: [1], value: [1, 2] } } }, 0), /curves\.loss must be/);
    assert.throws(() => outcomeOf({ metrics: { a: 1 }, data: [{ fingerprint: 'xyz' }] }, 0), /data\[0\] must be a dataset/);
  });
});
