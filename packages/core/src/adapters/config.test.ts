import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020';
import { testOnBackends } from '../testing/backends.js';
import { addAdapter } from './framework.js';
import { closestKey, configJsonSchema } from './config.js';
import { adapterMethodNames, getAdapterMethod } from './registry.js';
import { loraConfig } from './lora.js';
import { veraConfig } from './vera.js';
import { smallMlp } from './test-fixtures.js';
import { flatten } from '../params/params.js';
import { Rng } from '../random.js';
import { transformerEncoderBlock } from '../nn/transformer.js';

test('config: unknown key with the closest key suggested', () => {
  assert.throws(() => loraConfig({ targetModules: ['0'], lora_alpha: 16 } as never), /unknown key 'lora_alpha' in LoraConfig — did you mean 'loraAlpha'\?/);
  assert.throws(() => veraConfig({ targetModules: ['0'], d_initial: 0.1 } as never), /did you mean 'dInitial'/);
  assert.equal(closestKey('target_modules', ['targetModules', 'r']), 'targetModules');
  assert.equal(closestKey('zzzzzz', ['r', 'loraAlpha']), undefined);
});

testOnBackends('config: wrong type names the key and the expected type; missing required', () => {
  assert.throws(() => loraConfig({ targetModules: ['0'], r: '8' } as never), /LoraConfig\.r must be a positive integer, got "8" \(string\)/);
  assert.throws(() => loraConfig({ targetModules: ['0'], bias: 'some' } as never), /LoraConfig\.bias must be one of "none", "all", "lora_only"/);
  assert.throws(() => loraConfig({ targetModules: ['0'], loraDropout: 1.5 }), /loraDropout must be a number in \[0, 1\)/);
  assert.throws(() => loraConfig({} as never), /LoraConfig\.targetModules is required/);
  assert.throws(() => loraConfig({ targetModules: ['0'], fanInFanOut: true } as never), /fanInFanOut must be false/);
  const { model, params } = smallMlp();
  assert.throws(() => addAdapter(model, params, { method: 'lorra', targetModules: ['0'] }), /unknown adapter method 'lorra' — did you mean 'lora'\?/);
});

testOnBackends('config: r larger than the layer allows names the layer; failed adds change nothing', () => {
  const { model, params } = smallMlp();
  const keys = [...flatten(params).keys()];
  assert.throws(() => addAdapter(model, params, loraConfig({ r: 5, targetModules: ['0', '1'] })), /LoraConfig\.r = 5 is larger than min\(in, out\) = 4 of layer '1' \(linear 5 → 4\)/);
  assert.throws(() => addAdapter(model, params, loraConfig({ r: 2, targetModules: ['q_proj'] })), /targetModules \["q_proj"\] matched no linear or conv2d module; modules: 0 \(linear\), 1 \(linear\)/);
  assert.deepEqual([...flatten(params).keys()], keys);
  assert.equal(model.children!['0'].kind, 'linear');
  assert.ok([...flatten(params).values()].every((v) => v.trainable));
  const block = transformerEncoderBlock({ dModel: 4, numHeads: 2, dimFeedforward: 8 });
  assert.throws(() => addAdapter(block, block.init(new Rng(1)), loraConfig({ r: 2, targetModules: ['norm1'] })), /matched no linear or conv2d module \(matched only norm1 \(layer_norm\)\)/);
});

describe('configJsonSchema', () => {
  const samples: unknown[] = [0, 1, 8, -3, 0.5, 1.5, 'x', '', true, false, null, [], ['a'], [''], ['a', 1], { a: 1 }, 'none', 'gaussian', 'pissa'];
  for (const name of adapterMethodNames()) {
    it(`${name}: the JSON Schema accepts exactly what the field checks accept`, () => {
      const table = getAdapterMethod(name).schema;
      const ajv = new Ajv2020({ strict: false });
      for (const [key, spec] of Object.entries(table)) {
        const validate = ajv.compile(spec.json);
        for (const value of samples) {
          assert.equal(validate(value), spec.check(value), `${name}.${key} on ${JSON.stringify(value)}`);
        }
        if (spec.default !== undefined) assert.ok(validate(spec.default), `${name}.${key}'s default passes its schema`);
      }
      const whole = ajv.compile(configJsonSchema(table));
      assert.equal(whole({ method: name, targetModules: ['0'], unknownKey: 1 }), false, 'unknown keys are rejected');
    });
  }
});
