/** `trialFailureText`: a trial's ConfigError pointed at the sweep cell's lines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseYamlBody } from '../config/yaml-config.js';
import { TRIAL_CONFIG } from '../sweep/headless.js';
import { trialFailureText } from './sweep.js';

const body = `magic: adapter
base:
  model: { mlp: [20, 16, 2] }
  adapter:
    method: lora
    r: 2
  train: { epochs: 2 }
space:
  adapter.r: { grid: [0, 4] }
  model.mlp: { choice: [[20, 0, 2]] }
`;

test('a trial ConfigError: each key at the sweep line that set it (space entry, base key, or its deepest written parent)', async () => {
  const parsed = await parseYamlBody(body, { magic: 'sweep', firstLine: 2 });
  const error = new ConfigError(
    'adapter',
    [
      { line: 0, column: 0, path: 'adapter.r', message: 'adapter.r must be >= 1; got 0' },
      { line: 0, column: 0, path: 'model.mlp[1]', message: 'model.mlp[1] must be >= 1; got 0' },
      { line: 0, column: 0, path: 'adapter.loraAlpha', message: 'adapter.loraAlpha must be > 0; got 0' },
      { line: 0, column: 0, path: 'train.lr', message: 'train.lr must be > 0' },
    ],
    TRIAL_CONFIG,
  );
  assert.doesNotMatch(error.message, /cell line/, 'a trial config has no cell');
  assert.equal(
    trialFailureText(error.message, parsed, ['adapter.r', 'model.mlp']),
    [
      "%%adapter: 4 problems in a sweep trial's config:",
      '  cell line 10 (space adapter.r): adapter.r must be >= 1; got 0',
      '  cell line 11 (space model.mlp): model.mlp[1] must be >= 1; got 0',
      '  cell line 6 (base.adapter.loraAlpha): adapter.loraAlpha must be > 0; got 0',
      '  cell line 8 (base.train.lr): train.lr must be > 0',
    ].join('\n'),
  );
});

test('other failures: their first line', async () => {
  const parsed = await parseYamlBody(body, { magic: 'sweep', firstLine: 2 });
  assert.equal(trialFailureText('RangeError: boom\n    at x', parsed, []), 'RangeError: boom');
  assert.equal(trialFailureText(new ConfigError('adapter', [{ line: 3, column: 1, path: 'a', message: 'a: bad' }]).message, parsed, []), '%%adapter: a problem in the config:');
});
