/** Config YAML for the diff: keys sorted at every level, arrays kept in order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configYaml } from './config-yaml';

test('keys are sorted at every depth, so two configs written in different orders give the same text', () => {
  const a = configYaml({ train: { lr: 0.003, epochs: 2 }, adapter: { r: 8, method: 'lora', targetModules: ['1', '0'] }, magic: 'adapter' });
  const b = configYaml({ magic: 'adapter', adapter: { targetModules: ['1', '0'], method: 'lora', r: 8 }, train: { epochs: 2, lr: 0.003 } });
  assert.equal(a, b);
  assert.equal(a, ['adapter:', '  method: lora', '  r: 8', '  targetModules:', '    - "1"', '    - "0"', 'magic: adapter', 'train:', '  epochs: 2', '  lr: 0.003', ''].join('\n'));
});

test('an empty or missing config is {}', () => {
  assert.equal(configYaml(undefined), '{}\n');
  assert.equal(configYaml({}), '{}\n');
});
