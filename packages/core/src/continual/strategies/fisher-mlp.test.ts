import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { disposeParams, trainableVariables, setTrainable } from '../../params/params.js';
import { mlp, type MlpModule } from '../../nn/mlp.js';
import { Rng } from '../../random.js';
import { scenarioOutputs, type Scenario } from '../scenario.js';
import { strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { estimateFisher } from './ewc.js';
import { plainMlpLayers } from './fisher-mlp.js';

/** The same module under another kind, so estimateFisher takes its per-example loop. */
const opaque = (model: MlpModule): MlpModule => ({ ...model, kind: 'opaque' as 'mlp' });

for (const [scenario, activation] of [['task', 'relu'], ['class', 'tanh'], ['domain', 'gelu']] as Array<[Scenario, 'relu' | 'tanh' | 'gelu']>) {
  testOnBackends(`EWC Fisher of a plain MLP in closed form equals the per-example loop (${scenario}, ${activation})`, async () => {
    const bench = tinySplitMnist(24, 4);
    const model = mlp({ sizes: [784, 12, 10, scenarioOutputs(bench, scenario)], activation });
    const params = model.init(new Rng(3).fork('init'));
    const variables = trainableVariables(params);
    assert.ok(plainMlpLayers(model, params, variables), 'the fast path applies');
    assert.equal(plainMlpLayers(opaque(model), params, variables), undefined, 'and not to another kind');
    for (const empFI of [false, true]) {
      const fast = await estimateFisher(strategyContext(bench, scenario, model, params), variables, 2, { fisherSamples: 20, empFI });
      const loop = await estimateFisher(strategyContext(bench, scenario, opaque(model), params), variables, 2, { fisherSamples: 20, empFI });
      fast.forEach((f, k) => {
        const scale = tf.max(loop[k]).dataSync()[0];
        const diff = tf.max(tf.abs(tf.sub(f, loop[k]))).dataSync()[0];
        assert.ok(scale > 0, `${variables[k].name} has a non-zero Fisher`);
        assert.ok(diff <= 1e-5 * scale + 1e-9, `${variables[k].name} (empFI ${empFI}): max diff ${diff} vs max ${scale}`);
      });
      [...fast, ...loop].forEach((t) => t.dispose());
    }
    // A frozen layer is not among the variables: the fast path covers only what is trained.
    setTrainable(params, ['0.*'], false);
    const some = trainableVariables(params);
    assert.ok(plainMlpLayers(model, params, some));
    const fisher = await estimateFisher(strategyContext(bench, scenario, model, params), some, 0, { fisherSamples: 8, empFI: false });
    assert.deepEqual(fisher.map((f) => f.shape), some.map((v) => v.shape));
    fisher.forEach((t) => t.dispose());
    disposeParams(params);
  });
}
