import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseYamlBody, validateBody } from '../../config/yaml-config.js';
import { parseSearchSpace } from '../space.js';
import { algorithmSchema, ALGORITHM_NAMES, createAlgorithm } from './index.js';

const where = { magic: 'sweep', firstLine: 2 };
const schema = { type: 'object', properties: { algorithm: algorithmSchema }, additionalProperties: false };

async function messages(body: string): Promise<string[]> {
  try {
    validateBody(await parseYamlBody(body, where), schema, where);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((issue) => `${issue.line} ${issue.path}: ${issue.message}`);
  }
}

describe('the algorithm: section', () => {
  it('accepts a name alone or a name with its own options', async () => {
    for (const name of ALGORITHM_NAMES) assert.deepEqual(await messages(`algorithm: ${name}\n`), [], name);
    assert.deepEqual(await messages('algorithm: { name: asha, gracePeriod: 1, reductionFactor: 3, maxT: 27 }\n'), []);
    assert.deepEqual(await messages('algorithm:\n  name: pbt\n  perturbationInterval: 2\n  quantileFraction: 0.25\n'), []);
    assert.deepEqual(await messages('algorithm: { name: tpe, nStartup: 5, gamma: 0.2 }\n'), []);
  });

  it('names the key of each problem: unknown algorithm, misspelt or foreign option, missing or out-of-range value', async () => {
    const [unknown] = await messages('algorithm: ahsa\n');
    assert.match(unknown, /^2 algorithm: algorithm must be one of "grid", "random", "asha", "pbt", "tpe"; got string "ahsa" — did you mean "asha"\?/);
    const [misspelt] = await messages('algorithm:\n  name: asha\n  reductionFator: 3\n');
    assert.match(misspelt, /^4 algorithm.reductionFator: unknown key "reductionFator" in algorithm — did you mean "reductionFactor"\?/);
    const [foreign] = await messages('algorithm: { name: random, gracePeriod: 1 }\n');
    assert.match(foreign, /unknown key "gracePeriod" in algorithm/);
    const [missing] = await messages('algorithm: { name: pbt }\n');
    assert.match(missing, /algorithm is missing the required key "perturbationInterval" \(units of the resource between perturbations/);
    const [range] = await messages('algorithm: { name: tpe, gamma: 2 }\n');
    assert.match(range, /algorithm.gamma must be the fraction of trials counted as good, a number in \(0, 1\)/);
  });

  it('createAlgorithm resolves defaults into options (for the record) and refuses an unknown name', () => {
    const space = parseSearchSpace({ x: { uniform: [0, 1] } });
    const objective = { metric: 'loss', mode: 'min' as const };
    assert.deepEqual(createAlgorithm('asha', space, objective, { seed: 0, trials: 3 }).options, { gracePeriod: 1, reductionFactor: 3, maxT: 81, rungBudgets: [1, 3, 9, 27, 81] });
    assert.deepEqual(createAlgorithm({ name: 'pbt', perturbationInterval: 2 }, space, objective, { seed: 0, trials: 3 }).options, {
      perturbationInterval: 2,
      maxT: 20,
      quantileFraction: 0.25,
      resampleProbability: 0.25,
      perturbationFactors: [1.2, 0.8],
      burnInPeriod: 0,
      mutate: ['x'],
    });
    assert.deepEqual(createAlgorithm('tpe', space, objective, { seed: 0, trials: 3 }).options, { nStartup: 10, nCandidates: 24, gamma: 0.25, priorWeight: 1 });
    assert.throws(() => createAlgorithm('bayes' as never, space, objective, { seed: 0, trials: 3 }), /unknown algorithm "bayes"/);
  });
});
