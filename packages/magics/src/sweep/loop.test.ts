import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAlgorithm, type AlgorithmConfig, type SearchAlgorithm } from './algorithms/index.js';
import { segmentKey, type SweepEngine, type TrialReport, type TrialResult, type TrialSpec } from './engine.js';
import { runSweep, type SweepEvent, type SweepOutcome } from './loop.js';
import { hashText, trialSeed } from './seeded-random.js';
import { parseSearchSpace } from './space.js';

const space = parseSearchSpace({ 'train.lr': { loguniform: [1e-4, 1] }, 'adapter.r': { choice: [2, 4, 8, 16] } });
const objective = { metric: 'score', mode: 'max' as const };
const base = { model: { mlp: [4, 8, 2] }, train: { epochs: 1, lr: 0.1 }, adapter: { method: 'lora', r: 4 } };

/** Options of the toy engine. */
interface ToyOptions {
  concurrency: number;
  /** Milliseconds a segment takes (so results arrive out of order). */
  delay?: (spec: TrialSpec) => number;
  /**
   * One segment in n (chosen by a hash of its key) is first answered with a copy of an earlier
   * result (an at-least-once redelivery); asked again, it runs.
   */
  duplicateEvery?: number;
  /** Trials that throw. */
  failing?: string[];
}

/**
 * An in-process engine whose "trial" is a toy objective: a state x grows by gain(lr, r) per unit
 * of `train.epochs`, resuming from the checkpoint { x, t }; it reports twice per segment.
 */
class ToyEngine implements SweepEngine {
  readonly concurrency: number;
  readonly calls: TrialSpec[] = [];
  readonly finished: string[] = [];
  readonly returned = new Map<string, TrialResult>();
  private active = 0;
  maxActive = 0;

  constructor(private readonly options: ToyOptions) {
    this.concurrency = options.concurrency;
  }

  async run(spec: TrialSpec, { signal, onReport }: { signal: AbortSignal; onReport?: (report: TrialReport) => void }): Promise<TrialResult> {
    const firstCall = !this.calls.some((call) => segmentKey(call) === segmentKey(spec));
    this.calls.push(structuredClone(spec));
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const ms = this.options.delay?.(spec) ?? 0;
      onReport?.({ trialId: spec.trialId, step: 1, metrics: { score: -1 } });
      await sleep(ms / 2, signal);
      onReport?.({ trialId: spec.trialId, step: 2, metrics: { score: -0.5 } });
      await sleep(ms / 2, signal);
      if (this.options.failing?.includes(spec.trialId)) throw new Error(`${spec.trialId} ran out of memory`);
      const earlier = [...this.returned.values()];
      const hash = hashText(segmentKey(spec));
      if (this.options.duplicateEvery && firstCall && hash % this.options.duplicateEvery === 0 && earlier.length > 0) return { ...earlier[hash % earlier.length], attempt: 2 };
      const config = spec.config as typeof base;
      const state = spec.checkpoint ? (JSON.parse(spec.checkpoint) as { x: number; t: number }) : { x: 0, t: 0 };
      const lr = (spec.config as Record<string, any>).train.lr as number;
      const gain = 1 - (Math.log10(lr) + 2) ** 2 / 4 - Math.abs(Math.log2(config.adapter.r) - 3) / 4;
      const x = state.x + gain * (config.train.epochs - state.t);
      const result: TrialResult = {
        trialId: spec.trialId,
        attempt: 1,
        segment: spec.segment,
        metrics: { score: x },
        record: { name: `${spec.sweepId}/${spec.trialId}`, seed: spec.seed, metrics: { score: x } },
        checkpoint: JSON.stringify({ x, t: config.train.epochs }),
      };
      this.returned.set(segmentKey(spec), result);
      this.finished.push(segmentKey(spec));
      return result;
    } finally {
      this.active--;
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A delay in [1, 12) ms that scrambles the finish order. */
const scrambled = (spec: TrialSpec): number => 1 + (hashText(segmentKey(spec)) % 11);

async function sweep(config: AlgorithmConfig, trials: number, engine: ToyEngine, extra: Partial<Parameters<typeof runSweep>[0]> = {}): Promise<{ outcome: SweepOutcome; events: SweepEvent[] }> {
  const events: SweepEvent[] = [];
  const algorithm = createAlgorithm(config, space, objective, { seed: 42, trials });
  const outcome = await runSweep({ algorithm, engine, magic: 'adapter', base, objective, seed: 42, resourceKey: 'train.epochs', onEvent: (e) => events.push(e), ...extra });
  return { outcome, events };
}

describe('the sweep loop', () => {
  it('records each segment exactly once and orders trials by id, however parallel and with redeliveries', async () => {
    const parallel = new ToyEngine({ concurrency: 4, delay: scrambled, duplicateEvery: 2 });
    const { outcome, events } = await sweep('random', 12, parallel);
    assert.equal(parallel.maxActive, 4, 'four trials in flight');
    assert.notDeepEqual(parallel.finished, [...parallel.finished].sort(), 'results arrived out of order');
    assert.ok(events.filter((e) => e.type === 'duplicate').length >= 3, 'redeliveries happened and were ignored');
    assert.deepEqual(outcome.trials.map((t) => t.trialId), Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(3, '0')}`));
    assert.deepEqual(events.filter((e) => e.type === 'result').map((e) => (e as { trialId: string }).trialId).sort(), outcome.trials.map((t) => t.trialId));
    for (const trial of outcome.trials) {
      assert.equal(trial.segments.length, 1);
      assert.equal(trial.status, 'completed');
      assert.equal(trial.seed, trialSeed(42, trial.trialId));
      assert.deepEqual(trial.segments[0].record, { name: `sweep/${trial.trialId}`, seed: trial.seed, metrics: trial.metrics }, 'the first delivery’s record');
    }
    const serial = await sweep('random', 12, new ToyEngine({ concurrency: 1 }));
    assert.deepEqual(outcome, serial.outcome, 'the same outcome as one trial at a time');
    const best = outcome.trials.reduce((a, b) => (b.value! > a.value! ? b : a));
    assert.equal(outcome.best?.trialId, best.trialId);
    const bestSoFar = events.filter((e) => e.type === 'result').map((e) => (e as { best: { value: number } }).best.value);
    assert.deepEqual(bestSoFar, [...bestSoFar].sort((a, b) => a - b), 'best-so-far never decreases');
    assert.equal(events.at(-1)?.type, 'done');
  });

  it('builds each spec from the base: hyperparameters by path, the resource key at the budget, the checkpoint it resumes from', async () => {
    const engine = new ToyEngine({ concurrency: 3, delay: scrambled, duplicateEvery: 4 });
    const { outcome } = await sweep({ name: 'asha', gracePeriod: 1, reductionFactor: 3, maxT: 9 }, 9, engine);
    const firstCalls = new Map<string, TrialSpec>();
    for (const spec of engine.calls) if (!firstCalls.has(segmentKey(spec))) firstCalls.set(segmentKey(spec), spec);
    const segments = outcome.trials.flatMap((t) => t.segments.map((s) => ({ trialId: t.trialId, ...s })));
    assert.equal(segments.length, firstCalls.size, 'one recorded segment per segment run');
    assert.ok(segments.some((s) => s.segment > 0), 'promotions happened');
    for (const s of segments) {
      const spec = firstCalls.get(`${s.trialId}#${s.segment}`)!;
      assert.equal(s.status, 'completed');
      assert.equal(spec.config.train && (spec.config.train as Record<string, unknown>).epochs, s.budget);
      assert.equal(spec.budget, s.budget);
      assert.equal((spec.config.train as Record<string, unknown>).lr, s.params['train.lr']);
      assert.equal((spec.config.adapter as Record<string, unknown>).r, s.params['adapter.r']);
      assert.deepEqual(spec.config.model, base.model);
      if (s.segment > 0) {
        assert.deepEqual(s.resumeFrom, { trialId: s.trialId, segment: s.segment - 1 });
        assert.equal(spec.checkpoint, engine.returned.get(`${s.trialId}#${s.segment - 1}`)!.checkpoint, 'its own checkpoint');
      } else assert.equal(spec.checkpoint, undefined);
    }
    assert.equal(base.train.epochs, 1, 'the base config is not modified');
    assert.deepEqual(outcome.decisions.filter((d) => d.kind === 'promote').length, segments.filter((s) => s.segment > 0).length);
    assert.ok(outcome.best && outcome.best.budget === 9, 'the best trial is among those that trained longest');
  });

  it('PBT through the loop: exploit hands the donor’s checkpoint to the exploiting trial; one at a time it is reproducible', async () => {
    const config: AlgorithmConfig = { name: 'pbt', perturbationInterval: 1, maxT: 5 };
    const engine = new ToyEngine({ concurrency: 1 });
    const { outcome } = await sweep(config, 6, engine);
    const exploits = outcome.decisions.filter((d) => d.kind === 'exploit');
    assert.ok(exploits.length > 0);
    for (const exploit of exploits) {
      const next = engine.calls.find((c) => c.trialId === exploit.trialId && c.segment === exploit.from!.segment + 1)!;
      assert.equal(next.checkpoint, engine.returned.get(segmentKey(exploit.from!))!.checkpoint);
    }
    assert.deepEqual((await sweep(config, 6, new ToyEngine({ concurrency: 1 }))).outcome, outcome);
    assert.ok(outcome.trials.every((t) => t.segments.length === 5 && t.budget === 5));
  });

  it('a failing trial is recorded with its error and the sweep goes on', async () => {
    const { outcome, events } = await sweep('random', 4, new ToyEngine({ concurrency: 2, failing: ['t001'] }));
    const failed = outcome.trials.find((t) => t.trialId === 't001')!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.segments[0].error!, /ran out of memory/);
    assert.deepEqual(outcome.decisions.map((d) => [d.kind, d.trialId]), [['failed', 't001']]);
    assert.ok(events.some((e) => e.type === 'trial-error'));
    assert.equal(outcome.trials.filter((t) => t.status === 'completed').length, 3);
  });

  it('stops cleanly on the signal: no new trials, running ones aborted', async () => {
    const controller = new AbortController();
    const engine = new ToyEngine({ concurrency: 2, delay: () => 20 });
    let results = 0;
    const algorithm = createAlgorithm('random', space, objective, { seed: 1, trials: 50 });
    const outcome = await runSweep({
      algorithm,
      engine,
      magic: 'adapter',
      base,
      objective,
      seed: 1,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'result' && ++results === 3) controller.abort();
      },
    });
    assert.equal(outcome.status, 'interrupted');
    assert.equal(engine.calls.length, 4, 'two rounds of two (the third result came in the second round), nothing after the abort');
    assert.deepEqual(outcome.trials.map((t) => t.status).sort(), ['aborted', 'completed', 'completed', 'completed']);
  });

  it('honours an early stop from the algorithm’s report hook, and a throwing event handler stops the sweep', async () => {
    const inner = createAlgorithm('random', space, objective, { seed: 3, trials: 3 });
    const stopping: SearchAlgorithm = {
      name: 'random',
      options: {},
      next: () => inner.next(),
      tell: (r) => inner.tell(r),
      fail: (t, s, m) => inner.fail(t, s, m),
      report: (r) => (r.trialId === 't001' && r.step === 2 ? { kind: 'stop', trialId: r.trialId, at: 0, reason: 'score -0.5 below the median' } : undefined),
    };
    const engine = new ToyEngine({ concurrency: 1, delay: () => 4 });
    const outcome = await runSweep({ algorithm: stopping, engine, magic: 'adapter', base, objective, seed: 3 });
    const stopped = outcome.trials.find((t) => t.trialId === 't001')!;
    assert.equal(stopped.status, 'stopped');
    assert.deepEqual(stopped.metrics, { score: -0.5 }, 'its last report');
    assert.deepEqual(outcome.decisions.map((d) => [d.kind, d.trialId]), [['stop', 't001']]);
    assert.equal(outcome.trials.filter((t) => t.status === 'completed').length, 2);
    await assert.rejects(
      runSweep({ algorithm: createAlgorithm('random', space, objective, { seed: 3, trials: 5 }), engine: new ToyEngine({ concurrency: 2, delay: () => 5 }), magic: 'adapter', base, objective, seed: 3, onEvent: (e) => {
        if (e.type === 'result') throw new Error('plot failed');
      } }),
      /plot failed/,
    );
  });
});
