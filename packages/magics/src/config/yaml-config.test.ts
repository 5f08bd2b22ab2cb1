import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as core from '@hyperlab/core';
import { ConfigError, parseYamlBody, validateBody, closest, formatPath } from './yaml-config.js';
import { adapterMagicSchema, adapterMagicSpec, ADAPTER_TEMPLATE } from '../magics/adapter.js';
import { normalizeModelConfig } from '../training/model.js';

const schema = adapterMagicSchema(core);
const where = { magic: 'adapter', firstLine: 2 };

/** Validates a body that starts on cell line 2 (after the %%adapter line); returns the issues. */
async function issues(body: string, options: Parameters<typeof parseYamlBody>[2] = {}): Promise<ConfigError['issues']> {
  try {
    validateBody(await parseYamlBody(body, where, options), schema, where);
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
  it('accepts a valid body and fills in every default (the complete config a record stores)', async () => {
    const config = validateBody<Record<string, any>>(await parseYamlBody(valid, where), schema, where);
    assert.equal(config.train.epochs, 1);
    assert.equal(config.train.optimizer, 'adam');
    assert.equal(config.train.evalEvery, 'epoch');
    assert.equal(config.adapter.loraAlpha, 8);
    assert.equal(config.adapter.loraDropout, 0);
    assert.equal(config.data.train, 800);
    assert.deepEqual(normalizeModelConfig(config.model), { mlp: [20, 16, 2], activation: 'relu', dropout: 0, bias: true });
    assert.equal(normalizeModelConfig('base'), 'base');
  });

  it('the template is itself valid', async () => {
    validateBody(await parseYamlBody(ADAPTER_TEMPLATE, where), schema, where);
  });

  it('%magic_templates offers one valid template per method (required keys without a default left as comments)', async () => {
    const variants = adapterMagicSpec.variants!();
    assert.deepEqual(variants.map((v) => v.key).sort(), ['full', 'bitfit', ...core.wholeModelMethodNames(), ...core.adapterMethodNames()].sort());
    for (const variant of variants) {
      assert.ok(variant.help.length > 0, variant.key);
      const required = [...variant.template.matchAll(/^ {2}# (\w+): \(required\)/gm)].map((m) => `adapter.${m[1]}`);
      let problems: string[] = [];
      try {
        const config = validateBody<Record<string, any>>(await parseYamlBody(variant.template, where), schema, where);
        assert.equal(config.adapter.method, variant.key);
      } catch (error) {
        assert.ok(error instanceof ConfigError, `${variant.key}: ${String(error)}`);
        problems = error.issues.map((issue) => issue.path);
      }
      assert.deepEqual(problems, required, `${variant.key}: only its required keys are missing`);
    }
  });

  it('an unknown key names its cell line and suggests the closest key', async () => {
    const [issue] = await issues(valid.replace('  r: 4', '  r: 4\n  lora_alfa: 16'));
    assert.equal(issue.line, 9);
    assert.equal(issue.path, 'adapter.lora_alfa');
    assert.match(issue.message, /unknown key "lora_alfa" in adapter — did you mean "loraAlpha"\?/);
    const [camel] = await issues(valid.replace('  r: 4', '  r: 4\n  loraAlfa: 16'));
    assert.match(camel.message, /unknown key "loraAlfa" in adapter — did you mean "loraAlpha"\?/);
  });

  it('snake_case keys are aliases of the camelCase ones, recorded canonically', async () => {
    const body = valid.replace("  targetModules: ['0']", "  target_modules: ['0']\n  lora_alpha: 16\n  lora_dropout: 0.1");
    const parsed = await parseYamlBody(body, where);
    const config = validateBody<Record<string, any>>(parsed, schema, where);
    assert.deepEqual(config.adapter.targetModules, ['0']);
    assert.equal(config.adapter.loraAlpha, 16);
    assert.equal(config.adapter.loraDropout, 0.1);
    assert.equal('lora_alpha' in config.adapter, false);
    assert.equal(parsed.aliases.get('adapter.loraAlpha'), 'lora_alpha');
    // The alias keeps its cell line for later errors.
    assert.deepEqual(parsed.locate(['adapter', 'loraAlpha'], true), { line: 10, column: 3 });
  });

  it('a key given in both spellings is an error at the snake_case one', async () => {
    const [issue] = await issues(valid.replace('  r: 4', '  r: 4\n  loraAlpha: 8\n  lora_alpha: 16'));
    assert.equal(issue.line, 10);
    assert.match(issue.message, /"lora_alpha" and "loraAlpha" are the same key/);
  });

  it('${name} takes a notebook value with its type; inside a string, as text', async () => {
    const vars: Record<string, unknown> = { rank: 6, modules: ['0'], cfg: { alpha: 12 } };
    const resolve = async (reference: string): Promise<unknown> => {
      const value = Function('v', `with (v) { return ${reference}; }`)(vars);
      return value;
    };
    const body = valid.replace('r: 4', 'r: ${rank}').replace("targetModules: ['0']", 'targetModules: ${modules}\n  loraAlpha: ${cfg.alpha}');
    const config = validateBody<Record<string, any>>(await parseYamlBody(body + 'train:\n  optimizer: "adam"\n', where, { resolve }), schema, where);
    assert.equal(config.adapter.r, 6);
    assert.deepEqual(config.adapter.targetModules, ['0']);
    assert.equal(config.adapter.loraAlpha, 12);
    const text = await parseYamlBody('a: run-${rank}-x\nb: keep $${rank}\nc: [1, "${rank}"]\n', where, { resolve });
    assert.deepEqual(text.value, { a: 'run-6-x', b: 'keep ${rank}', c: [1, 6] });
  });

  it('${name} of a missing variable is an error at its cell line, naming -p', async () => {
    const resolve = async (reference: string): Promise<unknown> => {
      throw new ReferenceError(`${reference} is not defined`);
    };
    const found = await issues(valid.replace('r: 4', 'r: ${rank}').replace('mlp: [20, 16, 2]', 'mlp: [20, "${hidden}", 2]'), { resolve });
    assert.deepEqual(found.map((i) => i.line), [3, 8]);
    assert.match(found[1].message, /\$\{rank\}: no notebook variable rank \(define it in a cell, or pass -p rank=VALUE to hyperlab run\)/);
    const [bad] = await issues(valid.replace('r: 4', 'r: ${1 + 2}'), { resolve });
    assert.match(bad.message, /only a variable name/);
  });

  it('a wrong type names the key, the expected type and the value', async () => {
    const [issue] = await issues(valid.replace('r: 4', 'r: four'));
    assert.equal(issue.line, 8);
    assert.equal(issue.path, 'adapter.r');
    assert.match(issue.message, /adapter\.r must be a positive integer; got string "four"/);
  });

  it('a bad enum value suggests the closest one', async () => {
    const [issue] = await issues(valid.replace('method: lora', 'method: lorra'));
    assert.equal(issue.line, 7);
    assert.match(issue.message, /adapter\.method must be one of .*"lora".*got string "lorra" — did you mean "lora"\?/);
  });

  it('a missing required key is named with what it should be', async () => {
    const found = await issues(valid.replace("  targetModules: ['0']\n", ''));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /adapter is missing the required key "targetModules" \(a non-empty array of module names/);
    assert.equal(found[0].line, 6);
  });

  it('a value that fits none of a union is reported once, with the description', async () => {
    const found = await issues(valid.replace('  mlp: [20, 16, 2]', '  mlp: [20, 16, two]'));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /^model must be the name of an earlier run or variable/);
    assert.equal(found[0].line, 3);
  });

  it("dataset-specific keys: a key of another dataset is unknown, with that dataset's keys listed", async () => {
    const [issue] = await issues(valid.replace('  dataset: sum-greater-than', '  dataset: sum-greater-than\n  digits: [1, 2]'));
    assert.equal(issue.path, 'data.digits');
    assert.match(issue.message, /unknown key "digits" in data \(known keys: dataset, train, test, features, threshold\)/);
  });

  it('every problem is listed, in line order, in one error', async () => {
    const found = await issues(valid.replace('r: 4', 'r: 0').replace('mlp: [20, 16, 2]', 'mlp: [20, 16, 2]\n  widht: 3') + 'train:\n  epochs: 0\n');
    assert.deepEqual(
      found.map((i) => i.line),
      [...found.map((i) => i.line)].sort((a, b) => a - b),
    );
    assert.ok(found.length >= 3, JSON.stringify(found));
    const error = new ConfigError('adapter', found);
    assert.match(error.message, /cell line \d+: .*epochs/);
  });

  it('YAML syntax errors and duplicate keys give cell lines', async () => {
    const [syntax] = await issues('model: [1, 2\ndata: {}\n');
    assert.match(syntax.message, /^YAML: /);
    assert.ok(syntax.line >= 2);
    const [duplicate] = await issues(valid + 'model: base\n');
    assert.match(duplicate.message, /YAML: .*[Uu]nique|duplicate/i);
    assert.equal(duplicate.line, 10);
  });

  it('a YAML syntax error is reported once, with the count of the errors that follow from it; an unquoted ${name} in a flow mapping gets a hint', async () => {
    const found = await issues('data: { dataset: mnist, train: ${n}, test: 500 }\nadapter: { method: full }\n');
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].line, 2);
    assert.match(found[0].message, /^YAML: .*quote it, '\$\{name\}'.*\(\d+ more YAML errors follow from it\)$/);
  });
});

describe('helpers', () => {
  it('closest ignores case, _ and -', async () => {
    assert.equal(closest('target_modules', ['targetModules', 'r']), 'targetModules');
    assert.equal(closest('LR', ['lr', 'epochs']), 'lr');
    assert.equal(closest('zzzzzzzz', ['lr', 'epochs']), undefined);
  });
  it('formatPath', async () => {
    assert.equal(formatPath(['data', 'digits', 2]), 'data.digits[2]');
    assert.equal(formatPath([]), '');
  });
});
