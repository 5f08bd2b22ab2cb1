import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseYamlBody, validateBody } from '../config/yaml-config.js';
import { SweepRandom } from './seeded-random.js';
import {
  applyParams,
  fromUnit,
  getPath,
  gridPoints,
  parseSearchSpace,
  sample,
  SearchSpaceError,
  searchSpaceSchema,
  setPath,
  toUnit,
  type Dimension,
} from './space.js';

const yaml = `space:
  train.lr: { loguniform: [1e-4, 1e-1] }
  adapter.r: { choice: [4, 8, 16] }
  train.batchSize: { grid: [32, 64] }
  adapter.loraAlpha: { int: [4, 32] }
  adapter.loraDropout: { uniform: [0, 0.3] }
  model.mlp[1]: { int: [8, 128], log: true }
`;
const where = { magic: 'sweep', firstLine: 2 };
const schema = { type: 'object', properties: { space: searchSpaceSchema }, additionalProperties: false };

async function parsed(body = yaml): Promise<ReturnType<typeof parseSearchSpace>> {
  const config = validateBody<{ space: unknown }>(await parseYamlBody(body, where), schema, where);
  return parseSearchSpace(config.space);
}

function spaceIssues(raw: unknown): SearchSpaceError['issues'] {
  try {
    parseSearchSpace(raw);
  } catch (error) {
    assert.ok(error instanceof SearchSpaceError, String(error));
    return error.issues;
  }
  assert.fail('expected a SearchSpaceError');
}

describe('search space', () => {
  it('parses every kind of dimension from YAML, in the order written', async () => {
    const space = await parsed();
    assert.deepEqual(space.dimensions, [
      { key: 'train.lr', kind: 'loguniform', low: 1e-4, high: 1e-1 },
      { key: 'adapter.r', kind: 'choice', values: [4, 8, 16] },
      { key: 'train.batchSize', kind: 'grid', values: [32, 64] },
      { key: 'adapter.loraAlpha', kind: 'int', low: 4, high: 32, log: false },
      { key: 'adapter.loraDropout', kind: 'uniform', low: 0, high: 0.3 },
      { key: 'model.mlp[1]', kind: 'int', low: 8, high: 128, log: true },
    ]);
  });

  it('a malformed dimension fails schema validation at its key, with the expected forms', async () => {
    await assert.rejects(parsed('space:\n  train.lr: { loguniform: [1e-4] }\n  adapter.r: { pick: [1, 2] }\n'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map((i) => [i.line, i.path]), [[3, 'space.train.lr'], [4, 'space.adapter.r']]);
      for (const issue of error.issues) assert.match(issue.message, /must be a dimension: \{ uniform: \[low, high\] \}/);
      return true;
    });
  });

  it('cross-field problems name each key', () => {
    const issues = spaceIssues({
      'train.lr': { loguniform: [0, 1] },
      'adapter.r': { int: [2.5, 8] },
      'train.dropout': { uniform: [0.3, 0.1] },
      'train..x': { uniform: [0, 1] },
      'adapter.alpha': { choice: [1, 1] },
      'model.width': { int: [0, 8], log: true },
    });
    assert.deepEqual(issues.map((i) => i.key), ['train.lr', 'adapter.r', 'train.dropout', 'train..x', 'adapter.alpha', 'model.width']);
    assert.match(issues[0].message, /low must be positive/);
    assert.match(issues[1].message, /integers/);
    assert.match(issues[2].message, /low \(0.3\) must be less than high \(0.1\)/);
    assert.match(issues[3].message, /not a config key path/);
    assert.match(issues[4].message, /twice/);
    assert.match(issues[5].message, /low ≥ 1/);
    assert.match(spaceIssues({})[0].message, /no dimensions/);
  });

  it('maps values to the unit interval and back: log scale for loguniform and log int, bins for integers and categories', async () => {
    const [lr, r, , alpha, dropout, width] = (await parsed()).dimensions as Dimension[];
    assert.ok(Math.abs((fromUnit(lr, 0.5) as number) - Math.sqrt(1e-4 * 1e-1)) < 1e-12, 'loguniform midpoint is the geometric mean');
    assert.ok(Math.abs(toUnit(lr, 1e-2) - 2 / 3) < 1e-12);
    assert.equal(fromUnit(dropout, 0.5), 0.15);
    assert.equal(toUnit(r, 8), 0.5);
    assert.equal(fromUnit(r, 0.99), 16);
    assert.equal(fromUnit(alpha, 0), 4);
    assert.equal(fromUnit(alpha, 1), 32);
    for (let v = 4; v <= 32; v++) assert.equal(fromUnit(alpha, toUnit(alpha, v)), v, `int ${v} round-trips`);
    for (const v of [8, 9, 50, 127, 128]) assert.equal(fromUnit(width, toUnit(width, v)), v, `log int ${v} round-trips`);
    assert.ok(Math.abs((fromUnit(width, 0.5) as number) - Math.sqrt(7.5 * 128.5)) <= 0.5, 'log int midpoint near the geometric mean of its range');
    assert.equal(toUnit(dropout, 5), 1, 'clipped');
    assert.throws(() => toUnit(r, 5), /adapter.r: 5 is not one of \[4,8,16\]/);
  });

  it('samples inside the bounds, the same for a seed, integers uniformly over their values', async () => {
    const space = await parsed();
    const draw = (seed: number): unknown[] => {
      const rng = new SweepRandom(seed);
      return Array.from({ length: 50 }, () => sample(space, rng));
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    const counts = new Map<unknown, number>();
    for (const params of Array.from({ length: 4 }, (_, s) => draw(s)).flat() as Array<Record<string, any>>) {
      assert.ok(params['train.lr'] >= 1e-4 && params['train.lr'] <= 1e-1);
      assert.ok(Number.isInteger(params['adapter.loraAlpha']) && params['adapter.loraAlpha'] >= 4 && params['adapter.loraAlpha'] <= 32);
      assert.ok(params['adapter.loraDropout'] >= 0 && params['adapter.loraDropout'] <= 0.3);
      assert.ok([4, 8, 16].includes(params['adapter.r']));
      counts.set(params['adapter.loraAlpha'], (counts.get(params['adapter.loraAlpha']) ?? 0) + 1);
    }
    assert.equal(counts.size, 29, 'every integer in [4, 32] drawn');
    // log-uniform: about half the learning rates below the geometric mean.
    const lrs = Array.from({ length: 2000 }, (_, i) => (sample(space, new SweepRandom(`lr${i}`)) as Record<string, number>)['train.lr']);
    const below = lrs.filter((v) => v < Math.sqrt(1e-5)).length / lrs.length;
    assert.ok(Math.abs(below - 0.5) < 0.05, `fraction below the geometric mean: ${below}`);
  });

  it('enumerates the grid dimensions’ product exactly once, first key slowest', () => {
    const space = parseSearchSpace({ a: { grid: [1, 2, 3] }, b: { uniform: [0, 1] }, c: { grid: ['x', 'y'] }, d: { grid: [true, false] } });
    const points = gridPoints(space);
    assert.equal(points.length, 12);
    assert.equal(new Set(points.map((p) => JSON.stringify(p))).size, 12);
    for (const a of [1, 2, 3]) for (const c of ['x', 'y']) for (const d of [true, false]) assert.equal(points.filter((p) => p.a === a && p.c === c && p.d === d).length, 1);
    assert.deepEqual(points.slice(0, 3), [{ a: 1, c: 'x', d: true }, { a: 1, c: 'x', d: false }, { a: 1, c: 'y', d: true }]);
    assert.deepEqual(gridPoints(parseSearchSpace({ b: { uniform: [0, 1] } })), [{}]);
  });

  it('setPath deep-copies, creates missing mappings, indexes lists, and names the path on a bad intermediate', () => {
    const base: Record<string, any> = { train: { lr: 0.1, schedule: { warmup: 2 } }, model: { mlp: [4, 8, 2] }, name: 'x' };
    const out = setPath(base, 'train.schedule.warmup', 5);
    assert.equal(out.train.schedule.warmup, 5);
    assert.equal(base.train.schedule.warmup, 2, 'the original is untouched');
    assert.notEqual(out.model, base.model, 'deep copy');
    assert.deepEqual(setPath(base, 'model.mlp[1]', 32).model.mlp, [4, 32, 2]);
    assert.deepEqual(setPath(base, 'adapter.r', 8).adapter, { r: 8 });
    assert.throws(() => setPath(base, 'name.first', 1), /cannot set name\.first: name is string "x", not a mapping/);
    assert.throws(() => setPath(base, 'train.lr.value', 1), /cannot set train\.lr\.value: train\.lr is number 0\.1, not a mapping/);
    assert.throws(() => setPath(base, 'model.mlp[3]', 1), /model\.mlp has 3 elements, so \[3\] is past its end/);
    assert.throws(() => setPath(base, 'train.schedule[0]', 1), /train\.schedule is a mapping, not a list/);
    const value = { nested: [1] };
    const withObject = setPath(base, 'extra', value);
    value.nested.push(2);
    assert.deepEqual(withObject.extra, { nested: [1] }, 'the value is copied too');
    assert.deepEqual(applyParams(base, { 'train.lr': 0.01, 'model.mlp[0]': 6 }), { ...base, train: { ...base.train, lr: 0.01 }, model: { mlp: [6, 8, 2] } });
    assert.equal(getPath(base, 'model.mlp[2]'), 2);
    assert.equal(getPath(base, 'train.nothing.here'), undefined);
  });
});
