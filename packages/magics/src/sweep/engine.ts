/**
 * The engine interface of `%%sweep`: where a sweep's trials run. The sweep loop (the algorithms
 * in `sweep/`) hands one {@link TrialSpec} at a time to a {@link SweepEngine} and gets a
 * {@link TrialResult} back; engines differ only in where {@link runTrialHere} is called:
 *
 * - `LocalEngine` (`local-engine.ts`, the default): forked child processes on this machine;
 * - the Redis engine: BullMQ jobs taken by `hyperlab worker` processes anywhere.
 *
 * Everything crossing an engine is JSON-safe (configs, records, metrics, PBT checkpoints as
 * opaque strings), so a trial can run in another process or on another machine. Delivery may be
 * at least once: a result is keyed by `trialId` (and `attempt` says which delivery it was), so
 * the sweep counts each trial once.
 */

/** One trial to run: an experiment magic's config, fully resolved (no notebook references). */
export interface TrialSpec {
  /** The sweep it belongs to. */
  sweepId: string;
  /** Unique within the sweep; the sweep record orders trials by it (`t000`, `t001`, …). */
  trialId: string;
  /** The experiment magic whose `run` executes the config headless. */
  magic: 'adapter' | 'continual' | 'hypernet';
  /** The magic's YAML body as a JSON object (base config with the trial's hyperparameters set). */
  config: Record<string, unknown>;
  /** The trial's seed. */
  seed: number;
  /** resume from a PBT checkpoint (opaque JSON-safe string) */
  checkpoint?: string;
  /**
   * Train up to this many units of the sweep's resource (the config key the sweep names, e.g.
   * `train.epochs`): ASHA's rung budget, or the end of a PBT interval. With {@link checkpoint} the
   * trial resumes where the checkpoint stopped and trains only the rest.
   */
  budget?: number;
  /** Which segment of the trial this is (0 first; ASHA promotions and PBT intervals count up). */
  segment?: number;
  /**
   * The config key {@link budget} is written to by the trial runner, as a dotted path
   * (`train.epochs`; intermediate mappings are created). Without it the config is taken as it is
   * (the sweep loop has written the budget in). `%%adapter` resumes by epochs, so its checkpoints
   * continue only along `train.epochs`.
   */
  resourceKey?: string;
  /**
   * Whether to end with a checkpoint ({@link TrialResult.checkpoint}) to resume from. `true`
   * requires one: only magics in `CHECKPOINT_MAGICS` (`trial-runner.ts`) make them, and asking
   * another, or a configuration that cannot (an `%%adapter` method with stateful training hooks,
   * such as AdaLoRA), fails the trial with a message saying so. `false`: none. Default: a segment
   * with a {@link budget} gets one when its magic and config can make it, and none otherwise.
   */
  wantCheckpoint?: boolean;
}

/** The key that makes a delivery idempotent: one result per trial segment. */
export function segmentKey(spec: Pick<TrialSpec, 'trialId' | 'segment'>): string {
  return `${spec.trialId}#${spec.segment ?? 0}`;
}

/** An intermediate report while a trial runs (its metrics at a step). */
export interface TrialReport {
  trialId: string;
  /** The segment it comes from ({@link TrialSpec.segment}). */
  segment?: number;
  /** The training step (counting a resumed segment's earlier steps). */
  step: number;
  metrics: Record<string, number>;
}

/** A finished trial (or trial segment, when {@link TrialSpec.budget} cut it short). */
export interface TrialResult {
  trialId: string;
  /** Which delivery produced it (1 for the first; engines with retries count up). */
  attempt: number;
  /** The segment it finishes ({@link TrialSpec.segment}). */
  segment?: number;
  /** The trial's run record (a `RunRecord` as JSON). */
  record: unknown;
  /** Its final metrics (the record's `metrics`). */
  metrics: Record<string, number>;
  /**
   * The state to resume from (PBT's exploit copies it) when {@link TrialSpec.wantCheckpoint} asked
   * for it: opaque JSON text (`training/checkpoint.ts`), passed back as {@link TrialSpec.checkpoint}.
   */
  checkpoint?: string;
}

/** Where trials run. */
export interface SweepEngine {
  /** How many trials it runs at once. */
  readonly concurrency: number;
  /**
   * Runs one trial; rejects when `signal` aborts (the trial is stopped, its process gone) or
   * when the trial fails.
   */
  run(spec: TrialSpec, options: { signal: AbortSignal; onReport?: (report: TrialReport) => void }): Promise<TrialResult>;
  /** Stops every trial still running and releases the engine's resources. */
  close(): Promise<void>;
}

/** Runs one trial in this process (what every engine's worker calls). */
export async function runTrialHere(spec: TrialSpec, options: { signal: AbortSignal; onReport?: (r: TrialReport) => void }): Promise<TrialResult> {
  const { runTrial } = await import('./trial-runner.js');
  return runTrial(spec, options);
}
