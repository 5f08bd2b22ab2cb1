/**
 * The shape every experiment cell magic shares (`%%adapter` now; `%%continual`, `%%hypernet`,
 * `%%sweep` later, each one file): `%%name [--as NAME]` + a YAML body validated against the
 * magic's JSON Schema → the magic's `run` → a run record shown as a run card, remembered by the
 * session, and (with `--as`) a notebook variable holding the result.
 *
 * A new experiment magic is a {@link ExperimentMagicSpec} passed to {@link experimentMagic} and
 * listed in `index.ts`.
 */
import type { CellMagic, MagicContext } from '@hyperlab/kernel/magics';
import type { RunData, RunRecord } from '@hyperlab/core/runs';
import { ConfigError, parseYamlBody, validateBody, type ConfigIssue, type JsonSchema, type ParsedBody, UsageError } from './config/yaml-config.js';
import { runCardBundle } from './run-card.js';
import { asDisplay } from './figures/live.js';
import { session, type MagicSession } from './session.js';

/**
 * What a sweep trial adds to an experiment's context (see `sweep/trial-runner.ts`): where to send
 * intermediate metrics, and whether to resume from or end with a checkpoint. Notebook runs have
 * none, and a magic given none behaves, and records, exactly as before sweeps existed.
 */
export interface TrialHooks {
  /**
   * Called at each evaluation while the experiment trains, with the training step it was taken at
   * (counting steps before a resume, so a trial's segments share one axis) and the metrics under
   * the names the final `metrics` use (`accuracy` and `loss` for `%%adapter`; the running `acc`
   * for `%%continual`), so ASHA can compare trials at a rung before they finish.
   */
  report(step: number, metrics: Record<string, number>): void;
  /**
   * A checkpoint to continue from: an earlier {@link ExperimentOutcome.checkpoint} of the same
   * magic (of this trial's previous segment, or of another trial, as PBT's exploit copies it). The
   * config's hyper-parameters apply from here on; its shapes must match the checkpoint's.
   */
  resume?: string;
  /**
   * Whether to end with {@link ExperimentOutcome.checkpoint} set: `true` requires one (a magic, or
   * configuration, that cannot make it throws: see {@link refuseCheckpoints}); `'if-possible'`
   * asks for one when it can be made and is content with none otherwise; `false` asks for none.
   */
  wantCheckpoint: boolean | 'if-possible';
}

/** What an experiment's `run` gets besides its config. */
export interface ExperimentContext {
  /** The kernel's magic context (print, display, runCode, signal, …). */
  magic: MagicContext;
  /** The run's seed (the config's `seed`, else `%seed`'s). */
  seed: number;
  /** The run's name. */
  name: string;
  /** The parsed body, to point cross-field errors at config lines ({@link ExperimentContext.fail}). */
  parsed: ParsedBody;
  /** The session (runs so far, live update rate). */
  session: MagicSession;
  /** Throws a {@link ConfigError} at a key path of the body. */
  fail(path: Array<string | number>, message: string): never;
  /** Set when the run is a sweep trial (segment); absent in notebook runs. */
  trial?: TrialHooks;
}

/** What `run` returns: the reproducible parts of the record, and what the variable holds. */
export interface ExperimentOutcome {
  /** The complete config to record (defaults filled in). */
  config: Record<string, unknown>;
  /** Final metrics. */
  metrics: Record<string, number>;
  /** Curves by name. */
  curves?: Record<string, { step: ArrayLike<number>; value: ArrayLike<number> }>;
  /** Data sets used. */
  data?: RunData[];
  /** Timings (`totalMs` at least). */
  timings: { totalMs: number; [name: string]: number | undefined };
  /** Structured results for the record (a sweep's trials and decisions: `RunRecord.outcome`). */
  outcome?: Record<string, unknown>;
  /** Members of the `--as` variable besides `name`, `metrics` and `record`. */
  value?: Record<string, unknown>;
  /**
   * With {@link TrialHooks.wantCheckpoint}: the state to continue training from, as an opaque
   * JSON-safe string (for `%%adapter`, see `training/checkpoint.ts`), passed back later as
   * {@link TrialHooks.resume}. Not part of the run record.
   */
  checkpoint?: string;
}

/**
 * For a magic (or a configuration of one) that cannot make or resume checkpoints: throws when a
 * sweep trial requires one (`wantCheckpoint: true`) or gives one to resume from; does nothing
 * otherwise (`'if-possible'` is content with none). `what` names it in the message (`%%continual`,
 * `%%adapter with method adalora`), `why` optionally says why.
 */
export function refuseCheckpoints(trial: TrialHooks | undefined, what: string, why?: string): void {
  if (!trial || (trial.wantCheckpoint !== true && trial.resume === undefined)) return;
  throw new Error(`PBT needs checkpoints, which ${what} does not provide yet${why ? ` (${why})` : ''}; use ASHA or random`);
}

/** One ready-made body of an experiment magic (see {@link ExperimentMagicSpec.variants}). */
export interface TemplateVariant {
  /** Short key (`'lora'`), also the suggested `--as` stem. */
  key: string;
  /** One line for menus. */
  help: string;
  /** The YAML body. */
  template: string;
}

/** An experiment magic. */
export interface ExperimentMagicSpec<C> {
  /** `%%name`. */
  name: string;
  /** One line for %lsmagic. */
  help: string;
  /** The body's JSON Schema (built on demand; may load the core). */
  schema(): JsonSchema;
  /** A commented YAML body to start from (for templates and `%%name?`). */
  template: string;
  /**
   * Ready-made bodies for the main choices of the magic (one per adapter method for `%%adapter`),
   * listed by `%magic_templates` after {@link template} for front ends to offer.
   */
  variants?(): TemplateVariant[];
  /** TypeScript type of the `--as` variable (resolvable from a notebook). */
  variableType: string;
  /** Runs the experiment. */
  run(config: C, ctx: ExperimentContext): Promise<ExperimentOutcome>;
}

/** The experiment magics registered so far, by name (schemas and templates for front ends). */
export const experimentMagics = new Map<string, ExperimentMagicSpec<never>>();

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `--as NAME` (or `--as=NAME`) from a magic's arguments. */
export function parseAsFlag(argv: string[], magic: string, line: number): string | undefined {
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--as') name = argv[++i];
    else if (word.startsWith('--as=')) name = word.slice(5);
    else throw new UsageError(`%%${magic} (cell line ${line - 1}): unknown argument "${word}"; usage: %%${magic} [--as NAME]`);
    if (name === undefined || !IDENTIFIER.test(name)) {
      throw new UsageError(`%%${magic} (cell line ${line - 1}): --as needs a TypeScript identifier, got ${name === undefined ? 'nothing' : `"${name}"`}`);
    }
  }
  return name;
}

/** The run record of a finished run (what {@link recordRun} shows; sweep trials make it headless). */
export async function outcomeRecord(parts: { magicName: string; name: string; seed: number; outcome: ExperimentOutcome }): Promise<RunRecord> {
  const { createRunRecord } = await import('@hyperlab/core');
  const { outcome } = parts;
  return createRunRecord({
    name: parts.name,
    config: { magic: parts.magicName, ...outcome.config },
    seed: parts.seed,
    data: outcome.data,
    metrics: outcome.metrics,
    curves: outcome.curves,
    timings: outcome.timings,
    ...(outcome.outcome !== undefined ? { outcome: outcome.outcome } : {}),
  });
}

/** The record, run card, session entry and variable of a finished run. */
export async function recordRun(
  magic: MagicContext,
  parts: { magicName: string; name: string; seed: number; outcome: ExperimentOutcome; variable?: string; variableType: string },
): Promise<RunRecord> {
  const { outcome } = parts;
  const record = await outcomeRecord(parts);
  magic.display(asDisplay(runCardBundle(record)));
  const value = { name: parts.name, metrics: outcome.metrics, record, ...outcome.value };
  session.add({ name: parts.name, magic: parts.magicName, record, value });
  if (parts.variable) await magic.setGlobal(parts.variable, value, parts.variableType);
  return record;
}

/** The cell magic of a spec. */
export function experimentMagic<C>(spec: ExperimentMagicSpec<C>): CellMagic {
  experimentMagics.set(spec.name, spec as ExperimentMagicSpec<never>);
  return {
    kind: 'cell',
    name: spec.name,
    bodyLanguage: 'yaml',
    help: spec.help,
    async run(magic) {
      const variable = parseAsFlag(magic.argv, spec.name, magic.line);
      if (!magic.body.trim()) {
        throw new ConfigError(spec.name, [{ line: magic.line, column: 1, path: '', message: `the body is empty; start from this template:\n${spec.template}` }]);
      }
      const where = { magic: spec.name, firstLine: magic.line };
      const parsed = await parseYamlBody(magic.body, where, { resolve: (reference) => magic.runCode(reference) });
      const config = validateBody<C & { seed?: number }>(parsed, spec.schema(), where);
      const seed = typeof config.seed === 'number' ? config.seed : session.seed;
      const name = variable ?? session.nextName(spec.name);
      const fail = (path: Array<string | number>, message: string): never => {
        const issue: ConfigIssue = { ...parsed.locate(path), path: path.join('.'), message };
        throw new ConfigError(spec.name, [issue]);
      };
      const outcome = await spec.run(config, { magic, seed, name, parsed, session, fail });
      await recordRun(magic, { magicName: spec.name, name, seed, outcome, variable, variableType: spec.variableType });
    },
  };
}
