import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as core from '@hyperlab/core';
import { ConfigError, parseYamlBody, validateBody } from '../config/yaml-config.js';
import { continualMagicSchema, CONTINUAL_TEMPLATE } from './continual.js';

const schema = continualMagicSchema(core);
const where = { magic: 'continual', firstLine: 2 };

const valid = `benchmark:
  name: split-mnist
  train: 100
scenario: class
model:
  mlp: [784, 32, 10]
strategy:
  name: ewc
  ewcLambda: 1000
`;

async function config(body: string): Promise<Record<string, any>> {
  return validateBody<Record<string, any>>(await parseYamlBody(body, where), schema, where);
}

async function issues(body: string): Promise<ConfigError['issues']> {
  try {
    await config(body);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues;
  }
  assert.fail('expected a ConfigError');
}

describe('%%continual config validation', () => {
  it('the template is valid; defaults are filled from the core tables', async () => {
    await config(CONTINUAL_TEMPLATE);
    const filled = await config(valid);
    assert.equal(filled.benchmark.nExperiences, 5);
    assert.equal(filled.strategy.mode, 'separate', "EWC's own default, from the core's table");
    assert.equal(filled.strategy.empFI, false);
    assert.equal(filled.train.batchSize, 128);
    assert.equal(filled.train.lr, 0.001);
    assert.equal(filled.train.evalEvery, 100);
    assert.equal(filled.train.resetOptimizer, false);
  });

  it("Avalanche's snake_case names are aliases (ewc_lambda, mem_size, n_experiences)", async () => {
    const filled = await config(valid.replace('ewcLambda: 1000', 'ewc_lambda: 1000').replace('  train: 100', '  train: 100\n  n_experiences: 2'));
    assert.equal(filled.strategy.ewcLambda, 1000);
    assert.equal(filled.benchmark.nExperiences, 2);
    const replay = await config(valid.replace('name: ewc\n  ewcLambda: 1000', 'name: replay\n  mem_size: 300\n  storage_policy: reservoir'));
    assert.equal(replay.strategy.memSize, 300);
    assert.equal(replay.strategy.storagePolicy, 'reservoir');
  });

  it('an unknown strategy suggests the closest; a key of another strategy is unknown, with the known ones', async () => {
    const [name] = await issues(valid.replace('name: ewc', 'name: ewcc'));
    assert.equal(name.line, 9);
    assert.match(name.message, /strategy\.name must be one of .*"online-ewc".*got string "ewcc" — did you mean "ewc"\?/);
    const [key] = await issues(valid.replace('ewcLambda: 1000', 'memSize: 10'));
    assert.equal(key.line, 10);
    assert.match(key.message, /unknown key "memSize" in strategy \(known keys: .*ewcLambda/);
    const [typo] = await issues(valid.replace('ewcLambda: 1000', 'ewc_lamda: 1000'));
    assert.match(typo.message, /unknown key "ewc_lamda" in strategy — did you mean "ewcLambda"\?/);
  });

  it('benchmark-specific keys: fixedClassOrder only for split-mnist; unknown scenario names', async () => {
    const [order] = await issues(valid.replace('name: split-mnist', 'name: permuted-mnist\n  fixedClassOrder: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]'));
    assert.match(order.message, /unknown key "fixedClassOrder" in benchmark/);
    const [scenario] = await issues(valid.replace('scenario: class', 'scenario: clas'));
    assert.equal(scenario.line, 5);
    assert.match(scenario.message, /scenario must be one of "task", "domain", "class"; got string "clas" — did you mean "class"\?/);
    const [bench] = await issues(valid.replace('name: split-mnist', 'name: split-cifar'));
    assert.match(bench.message, /benchmark\.name must be one of "split-mnist", "permuted-mnist", "rotated-mnist"/);
  });

  it('a bad hyperparameter value names the key and what it must be', async () => {
    const [negative] = await issues(valid.replace('ewcLambda: 1000', 'ewcLambda: -1'));
    assert.equal(negative.path, 'strategy.ewcLambda');
    assert.match(negative.message, /strategy\.ewcLambda must be a number ≥ 0; got number -1/);
  });
});
