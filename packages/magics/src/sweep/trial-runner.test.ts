import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as core from '@hyperlab/core';
import { adapterMagicSpec } from '../magics/adapter.js';
import { outcomeRecord } from '../experiment-magic.js';
import { backendChosen } from '../session.js';
import { decodeCheckpoint } from '../training/checkpoint.js';
import { headlessContext } from './headless.js';
import { runTrial, withConfigValue } from './trial-runner.js';
import type { TrialReport, TrialResult, TrialSpec } from './engine.js';

// A tiny %%adapter run: 60 examples in batches of 16 (4 steps an epoch), LoRA with dropout (so the
// dropout generator matters), a new head in modulesToSave, evaluations every 3 steps (mid-epoch).
const CONFIG = {
  model: { mlp: [8, 16, 3] },
  data: { dataset: 'gaussian-mixture', train: 60, test: 30, classes: 3, dims: 8, separation: 1.5 },
  adapter: { method: 'lora', r: 2, loraAlpha: 4, loraDropout: 0.1, targetModules: ['0'], modulesToSave: ['1'] },
  train: { epochs: 4, batchSize: 16, optimizer: 'adam', lr: 0.02, evalEvery: 3 },
};

/** The record's contentHash of CONFIG (seed 7) on the cpu backend, made by the code before trial hooks and checkpoints existed. */
const CPU_HASH_BEFORE_TRIAL_HOOKS = '5f8464b5c446e1df25033805cce59ceb0fd5b04fb177aa85fcb1b3d79887d174';

const BACKENDS = ['cpu', 'wasm', ...(core.nativeBackendProblem() === undefined ? (['node'] as const) : [])] as const;

async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  const ready = core.setBackend(name);
  backendChosen(ready.then(() => undefined));
  assert.equal((await ready).name, name);
}

const signal = new AbortController().signal;

/** Runs an %%adapter trial (segment) with CONFIG changed by `change`, collecting its reports. */
async function adapterTrial(spec: Partial<TrialSpec> = {}, change: (config: typeof CONFIG) => Record<string, unknown> = (c) => c): Promise<TrialResult & { reports: TrialReport[] }> {
  const reports: TrialReport[] = [];
  const result = await runTrial({ sweepId: 's', trialId: 't000', magic: 'adapter', config: change(structuredClone(CONFIG)), seed: 7, resourceKey: 'train.epochs', ...spec }, { signal, onReport: (r) => reports.push(r) });
  return { ...result, reports };
}

interface Curve {
  step: number[];
  value: Array<number | string>;
}
const curvesOf = (result: TrialResult): Record<string, Curve> => (result.record as { curves: Record<string, Curve> }).curves;
const hashOf = (result: TrialResult): string => (result.record as { contentHash: string }).contentHash;

/** A curve's points from step `from` on. */
function after(curve: Curve, from: number): Curve {
  const keep = curve.step.map((s) => s >= from);
  return { step: curve.step.filter((_, i) => keep[i]), value: curve.value.filter((_, i) => keep[i]) };
}

describe('sweep trial segments: %%adapter', () => {
  for (const backend of BACKENDS) {
    it(`a plain run records what it recorded before trial hooks; hooks, reports and a checkpoint change nothing in the record [${backend}]`, async () => {
      await useBackend(backend);
      // The path the kernel takes: the magic's run with no trial hooks.
      const { config, ctx } = await headlessContext(adapterMagicSpec, { ...CONFIG, seed: 7 }, { magic: 'adapter', name: 's/t000', seed: 7, signal });
      const plain = await outcomeRecord({ magicName: 'adapter', name: 's/t000', seed: 7, outcome: await adapterMagicSpec.run(config as never, ctx) });
      if (backend === 'cpu') assert.equal(plain.contentHash, CPU_HASH_BEFORE_TRIAL_HOOKS, 'bit-identical to the record before this change');
      const hooked = await adapterTrial({ wantCheckpoint: true });
      assert.equal(hashOf(hooked), plain.contentHash);
      assert.equal(typeof hooked.checkpoint, 'string');
    });

    it(`epochs 1–2 then a resume for 3–4 equal epochs 1–4 in one go, bit for bit; reports come at the evaluation steps [${backend}]`, async () => {
      await useBackend(backend);
      const whole = await adapterTrial({ budget: 4, wantCheckpoint: true });
      const first = await adapterTrial({ budget: 2, wantCheckpoint: true });
      const second = await adapterTrial({ budget: 4, segment: 1, checkpoint: first.checkpoint, wantCheckpoint: true });

      assert.deepEqual(second.metrics, whole.metrics);
      // (ok, not equal: a failure would print two long base64 strings)
      assert.ok(second.checkpoint === whole.checkpoint, 'the same checkpoint: params, Adam moments and counts, generator positions');
      assert.deepEqual(decodeCheckpoint(first.checkpoint!, 'adapter').step, 8);
      for (const name of ['train/loss', 'test/accuracy', 'test/loss']) assert.deepEqual(after(curvesOf(second)[name], 9), after(curvesOf(whole)[name], 9), name);
      assert.equal(second.segment, 1);

      // Reports: every evaluation after a step, under the final metrics' names, with the whole run's step numbers.
      assert.deepEqual(whole.reports.map((r) => r.step), [3, 6, 9, 12, 15, 16]);
      assert.deepEqual(first.reports.map((r) => r.step), [3, 6, 8]);
      assert.deepEqual(second.reports.map((r) => r.step), [9, 12, 15, 16]);
      assert.ok(second.reports.every((r) => r.trialId === 't000' && r.segment === 1));
      const accuracy = curvesOf(whole)['test/accuracy'];
      for (const report of whole.reports) {
        assert.deepEqual(Object.keys(report.metrics), ['accuracy', 'loss']);
        assert.equal(report.metrics.accuracy, accuracy.value[accuracy.step.indexOf(report.step)]);
      }
      assert.deepEqual(whole.reports.at(-1)!.metrics, { accuracy: whole.metrics.accuracy, loss: whole.metrics.loss });
    });
  }

  it('a checkpoint continues under another learning rate: the optimizer state carries over, the lr is the new config\'s', async () => {
    await useBackend('cpu');
    const first = await adapterTrial({ budget: 2, wantCheckpoint: true });
    const same = await adapterTrial({ budget: 4, segment: 1, checkpoint: first.checkpoint, wantCheckpoint: true });
    const faster = await adapterTrial({ budget: 4, segment: 1, checkpoint: first.checkpoint, wantCheckpoint: true }, (c) => ({ ...c, train: { ...c.train, lr: 0.05 } }));
    assert.equal(faster.metrics.steps, 16);
    assert.notEqual(faster.metrics.trainLoss, same.metrics.trainLoss, 'the new lr took effect');
    assert.equal((faster.record as { config: { train: { lr: number } } }).config.train.lr, 0.05);
    // Adam's update counts went on from 8 (bias correction continues), in both continuations.
    for (const result of [same, faster]) {
      const { metadata } = core.decodeSafetensors(decodeCheckpoint(result.checkpoint!, 'adapter').bytes);
      assert.equal(metadata.iterations, '16');
      assert.deepEqual(new Set(Object.values(JSON.parse(metadata.slotSteps) as Record<string, number>)), new Set([16]));
    }
  });

  it('a checkpoint of another shape (another LoRA rank) is refused, naming the key and both shapes', async () => {
    await useBackend('cpu');
    const first = await adapterTrial({ budget: 1, wantCheckpoint: true });
    await assert.rejects(
      adapterTrial({ budget: 2, checkpoint: first.checkpoint }, (c) => ({ ...c, adapter: { ...c.adapter, r: 4 } })),
      (error: Error) => {
        assert.equal(error.name, 'CheckpointError');
        assert.match(error.message, /^%%adapter: cannot resume from the checkpoint: the checkpoint does not fit this model: /);
        assert.match(error.message, /0\.lora_A\.default\.weight is float32 \[2, 8\] in the checkpoint but float32 \[4, 8\] here/);
        assert.match(error.message, /another r\?/);
        return true;
      },
    );
    await assert.rejects(adapterTrial({ budget: 1, checkpoint: (await adapterTrial({ budget: 2, wantCheckpoint: true })).checkpoint }), /the checkpoint has trained 2 epochs, past train\.epochs \(1\)/);
    await assert.rejects(adapterTrial({ checkpoint: '{"format":"other"}' }), /not a HyperLab checkpoint \(format "other"\)/);
    await assert.rejects(adapterTrial({ checkpoint: first.checkpoint!.replace('"magic":"adapter"', '"magic":"continual"') }), /made by %%continual; a trial resumes only a checkpoint of its own magic/);
  });

  it('methods whose training hooks keep state refuse checkpoints, and say what to use instead', async () => {
    await useBackend('cpu');
    const adalora = (c: typeof CONFIG): Record<string, unknown> => ({ ...c, adapter: { method: 'adalora', initR: 4, targetR: 2, targetModules: ['0'], totalStep: 16 } });
    await assert.rejects(adapterTrial({ wantCheckpoint: true }, adalora), /PBT needs checkpoints, which %%adapter with method adalora does not provide yet \(its training hooks keep state .*\); use ASHA or random/);
    const plain = await adapterTrial({}, adalora);
    assert.equal(plain.checkpoint, undefined);
    assert.ok(plain.reports.length > 0, 'reports still come');
    // A budgeted segment asks for a checkpoint only if possible: none here, and no error.
    const segment = await adapterTrial({ budget: 1 }, adalora);
    assert.equal(segment.checkpoint, undefined);
    assert.equal(typeof (await adapterTrial({ budget: 1 })).checkpoint, 'string', 'LoRA makes one unasked');
    assert.equal((await adapterTrial({ budget: 1, wantCheckpoint: false })).checkpoint, undefined);
  });

  it('a budget is written at the resource key; without one it is an error', async () => {
    assert.deepEqual(withConfigValue({ train: { lr: 1 }, seed: 3 }, 'train.epochs', 5), { train: { lr: 1, epochs: 5 }, seed: 3 });
    assert.deepEqual(withConfigValue({}, 'a.b.c', 1), { a: { b: { c: 1 } } });
    const config = { train: { lr: 1 } };
    withConfigValue(config, 'train.epochs', 5);
    assert.deepEqual(config, { train: { lr: 1 } }, 'the input is not changed');
    assert.throws(() => withConfigValue({ train: 3 }, 'train.epochs', 5), /goes through train, which is not a mapping/);
    assert.throws(() => withConfigValue({}, 'train..epochs', 5), /not a dotted config path/);
    // Without a resource key the config is taken as it is (the sweep loop wrote the budget in).
    const asIs = await adapterTrial({ budget: 2, resourceKey: undefined });
    assert.equal(asIs.metrics.steps, 16);
  });
});

describe('sweep trial segments: %%continual and %%hypernet', () => {
  const continual = {
    benchmark: { name: 'split-mnist', nExperiences: 2, train: 40, test: 40 },
    scenario: 'class',
    model: { mlp: [784, 8, 10] },
    strategy: { name: 'naive' },
    train: { iterations: 4, batchSize: 16, evalEvery: 0 },
  };

  it('%%continual reports the running ACC after each experience; checkpoints are refused', async () => {
    await useBackend('cpu');
    const reports: TrialReport[] = [];
    const result = await runTrial({ sweepId: 's', trialId: 't001', magic: 'continual', config: continual, seed: 1 }, { signal, onReport: (r) => reports.push(r) });
    assert.deepEqual(reports.map((r) => r.step), [4, 8]);
    const matrix = (result.record as { curves: Record<string, Curve> }).curves;
    assert.equal(reports[0].metrics.acc, matrix['matrix/exp0'].value[0], 'after experience 0: its own accuracy');
    assert.equal(reports[1].metrics.acc, result.metrics.acc, 'after the last: ACC');
    const refused = /PBT needs checkpoints, which %%continual does not provide yet; use ASHA or random/;
    await assert.rejects(runTrial({ sweepId: 's', trialId: 't001', magic: 'continual', config: continual, seed: 1, wantCheckpoint: true }, { signal }), refused);
    await assert.rejects(runTrial({ sweepId: 's', trialId: 't001', magic: 'continual', config: continual, seed: 1, checkpoint: '{}' }, { signal }), refused);
    const budgeted = await runTrial({ sweepId: 's', trialId: 't001', magic: 'continual', config: continual, seed: 1, budget: 4, resourceKey: 'train.iterations' }, { signal });
    assert.equal(budgeted.checkpoint, undefined, 'a budgeted segment without a checkpoint, no error');
  });

  it('%%hypernet reports its evaluations under the final metrics\' names; checkpoints are refused', async () => {
    await useBackend('cpu');
    const config = { learn: 'regression', regression: { tasks: 2, train: 16, test: 8 }, model: { mlp: [1, 4, 1] }, hypernetwork: { kind: 'full', layers: [8] }, train: { iterations: 10, batchSize: 8, evalEvery: 4 } };
    const reports: TrialReport[] = [];
    const result = await runTrial({ sweepId: 's', trialId: 't002', magic: 'hypernet', config, seed: 1 }, { signal, onReport: (r) => reports.push(r) });
    assert.deepEqual(reports.map((r) => r.step), [4, 8, 10]);
    assert.deepEqual(Object.keys(reports[0].metrics), ['mse', 'mse/task0', 'mse/task1']);
    assert.deepEqual(reports.at(-1)!.metrics, { mse: result.metrics.mse, 'mse/task0': result.metrics['mse/task0'], 'mse/task1': result.metrics['mse/task1'] });
    await assert.rejects(runTrial({ sweepId: 's', trialId: 't002', magic: 'hypernet', config, seed: 1, wantCheckpoint: true }, { signal }), /PBT needs checkpoints, which %%hypernet does not provide yet; use ASHA or random/);
  });
});
