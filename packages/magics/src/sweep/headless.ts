/**
 * A headless {@link ExperimentContext}: what an experiment magic's `run` needs, outside the
 * kernel. Trials of a sweep run in other processes (a `LocalEngine` child, a `hyperlab worker`),
 * where there is no notebook: output is collected (or dropped), live displays go nowhere,
 * notebook references (`model: someVariable`, `${expr}`) are refused with a clear message, and
 * the session is a fresh one with the trial's seed.
 */
import { MagicRegistry, type MagicContext } from '@hyperlab/kernel/magics';
import { stringify } from 'yaml';
import { ConfigError, parseYamlBody, validateBody, type ConfigIssue } from '../config/yaml-config.js';
import type { ExperimentContext, ExperimentMagicSpec } from '../experiment-magic.js';
import { MagicSession } from '../session.js';

/** Options of {@link headlessContext}. */
export interface HeadlessOptions {
  /** The magic's name (for error messages). */
  magic: string;
  /** The run's name. */
  name: string;
  /** The run's seed. */
  seed: number;
  /** Aborts the run between steps. */
  signal: AbortSignal;
  /** Where printed lines go (default: dropped). */
  print?: (text: string) => void;
}

/** How a trial's ConfigError names its config. */
export const TRIAL_CONFIG = "a sweep trial's config";

const NO_NOTEBOOK = 'a sweep trial runs outside the notebook, so it cannot read notebook variables or runs; give the value itself in the base config';

/** A {@link MagicContext} without a kernel behind it. */
export function headlessMagicContext(body: string, options: Pick<HeadlessOptions, 'signal' | 'print'>): MagicContext {
  let displays = 0;
  const print = options.print ?? (() => {});
  return {
    args: '',
    argv: [],
    body,
    line: 2,
    print,
    printError: print,
    display: (_value, display) => display?.displayId ?? `headless-${++displays}`,
    runCode: () => Promise.reject(new Error(NO_NOTEBOOK)),
    kernel: (method) => Promise.reject(new Error(`a sweep trial has no kernel (asked for "${method}")`)),
    setGlobal: () => Promise.resolve(),
    signal: options.signal,
    registry: new MagicRegistry(),
  };
}

/**
 * Validates a magic's config (a JSON object, as a YAML body would give it) against the magic's
 * schema, filling defaults, and builds the context its `run` gets.
 */
export async function headlessContext<C>(spec: ExperimentMagicSpec<C>, config: Record<string, unknown>, options: HeadlessOptions): Promise<{ config: C; ctx: ExperimentContext }> {
  const body = stringify(config);
  const where = { magic: options.magic, firstLine: 2 };
  const parsed = await parseYamlBody(body, where);
  // The body was generated from the sweep's base and a trial's values: its lines are no cell's, so
  // issues name their key alone (the sweep maps keys to its own cell's lines, `trialFailureText`).
  const trialError = (issues: ConfigIssue[]): ConfigError => new ConfigError(options.magic, issues.map((issue) => ({ ...issue, line: 0, column: 0 })), TRIAL_CONFIG);
  let validated: C;
  try {
    validated = validateBody<C>(parsed, spec.schema(), where);
  } catch (error) {
    throw error instanceof ConfigError ? trialError(error.issues) : error;
  }
  const session = new MagicSession();
  session.seed = options.seed;
  const magic = headlessMagicContext(body, options);
  const fail = (path: Array<string | number>, message: string): never => {
    throw trialError([{ line: 0, column: 0, path: path.join('.'), message }]);
  };
  return { config: validated, ctx: { magic, seed: options.seed, name: options.name, parsed, session, fail } };
}
