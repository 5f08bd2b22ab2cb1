import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as core from '@hyperlab/core';
import { ConfigError, parseYamlBody, validateBody, closest, formatPath } from './yaml-config.js';
import { adapterMagicSchema, ADAPTER_TEMPLATE } from '../magics/adapter.js';
import { normalizeModelConfig } from '../training/model.js';

const schema = adapterMagicSchema(core);
const where = { magic: 'adapter', firstLine: 2 };

/** Validates a body that starts on cell line 2 (after the %%adapter line); returns the issues. */
function issues(body: string): ConfigError['issues'] {
  try {
    validateBody(parseYamlBody(body, where), schema, where);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues;
  }
  assert.fail('expected a ConfigError');
}

const valid = `model:
  mlp: [20, 16, 2]
data:
  dataset: sum-greater-than
adapter:
  method: lora
  r: 4
  targetModules: ['0']
`;

describe('%%adapter config validation', () => {
  it('accepts a valid body and fills in every default (the complete config a record stores)', () => {
    const config = validateBody<Record<string, any>>(parseYamlBody(valid, where), schema, where);
    assert.equal(config.train.epochs, 1);
    assert.equal(config.train.optimizer, 'adam');
    assert.equal(config.train.evalEvery, 'epoch');
    assert.equal(config.adapter.loraAlpha, 8);
    assert.equal(config.adapter.loraDropout, 0);
    assert.equal(config.data.train, 800);
    assert.deepEqual(normalizeModelConfig(config.model), { mlp: [20, 16, 2], activation: 'relu', dropout: 0, bias: true });
    assert.equal(normalizeModelConfig('base'), 'base');
  });

  it('the template is itself valid', () => {
    validateBody(parseYamlBody(ADAPTER_TEMPLATE, where), schema, where);
  });

  it('an unknown key names its cell line and suggests the closest key', () => {
    const [issue] = issues(valid.replace('  r: 4', '  r: 4\n  lora_alpha: 16'));
    assert.equal(issue.line, 9);
    assert.equal(issue.path, 'adapter.lora_alpha');
    assert.match(issue.message, /unknown key "lora_alpha" in adapter — did you mean "loraAlpha"\?/);
  });

  it('a wrong type names the key, the expected type and the value', () => {
    const [issue] = issues(valid.replace('r: 4', 'r: four'));
    assert.equal(issue.line, 8);
    assert.equal(issue.path, 'adapter.r');
    assert.match(issue.message, /adapter\.r must be a positive integer; got string "four"/);
  });

  it('a bad enum value suggests the closest one', () => {
    const [issue] = issues(valid.replace('method: lora', 'method: lorra'));
    assert.equal(issue.line, 7);
    assert.match(issue.message, /adapter\.method must be one of .*"lora".*got string "lorra" — did you mean "lora"\?/);
  });

  it('a missing required key is named with what it should be', () => {
    const found = issues(valid.replace("  targetModules: ['0']\n", ''));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /adapter is missing the required key "targetModules" \(a non-empty array of module names/);
    assert.equal(found[0].line, 6);
  });

  it('a value that fits none of a union is reported once, with the description', () => {
    const found = issues(valid.replace('  mlp: [20, 16, 2]', '  mlp: [20, 16, two]'));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /^model must be the name of an earlier run or variable/);
    assert.equal(found[0].line, 3);
  });

  it("dataset-specific keys: a key of another dataset is unknown, with that dataset's keys listed", () => {
    const [issue] = issues(valid.replace('  dataset: sum-greater-than', '  dataset: sum-greater-than\n  digits: [1, 2]'));
    assert.equal(issue.path, 'data.digits');
    assert.match(issue.message, /unknown key "digits" in data \(known keys: dataset, train, test, features, threshold\)/);
  });

  it('every problem is listed, in line order, in one error', () => {
    const found = issues(valid.replace('r: 4', 'r: 0').replace('mlp: [20, 16, 2]', 'mlp: [20, 16, 2]\n  widht: 3') + 'train:\n  epochs: 0\n');
    assert.deepEqual(
      found.map((i) => i.line),
      [...found.map((i) => i.line)].sort((a, b) => a - b),
    );
    assert.ok(found.length >= 3, JSON.stringify(found));
    const error = new ConfigError('adapter', found);
    assert.match(error.message, /cell line \d+: .*epochs/);
  });

  it('YAML syntax errors and duplicate keys give cell lines', () => {
    const [syntax] = issues('model: [1, 2\ndata: {}\n');
    assert.match(syntax.message, /^YAML: /);
    assert.ok(syntax.line >= 2);
    const [duplicate] = issues(valid + 'model: base\n');
    assert.match(duplicate.message, /YAML: .*[Uu]nique|duplicate/i);
    assert.equal(duplicate.line, 10);
  });
});

describe('helpers', () => {
  it('closest ignores case, _ and -', () => {
    assert.equal(closest('target_modules', ['targetModules', 'r']), 'targetModules');
    assert.equal(closest('LR', ['lr', 'epochs']), 'lr');
    assert.equal(closest('zzzzzzzz', ['lr', 'epochs']), undefined);
  });
  it('formatPath', () => {
    assert.equal(formatPath(['data', 'digits', 2]), 'data.digits[2]');
    assert.equal(formatPath([]), '');
  });
});
