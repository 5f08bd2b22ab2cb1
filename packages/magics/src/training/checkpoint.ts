/**
 * The checkpoint string of an experiment magic ({@link ExperimentOutcome.checkpoint}): what a sweep
 * trial returns and a later segment (or, with PBT, another trial) resumes from. It crosses engines
 * (process messages, Redis), so it is JSON text:
 *
 * ```json
 * { "format": "hyperlab.checkpoint", "version": 1, "magic": "adapter",
 *   "epoch": 2, "step": 16, "safetensors": "<base64>" }
 * ```
 *
 * `safetensors` holds the core's training checkpoint (`@hyperlab/core` `train/checkpoint.ts`:
 * trainable params, optimizer slots and counts, generator positions); `epoch` and `step` repeat
 * its position for whoever reads the string without decoding it.
 */
import type { ExperimentOutcome } from '../experiment-magic.js';

/** The `format` field of a checkpoint string. */
export const CHECKPOINT_FORMAT = 'hyperlab.checkpoint';

/** The version written (and the only one read). */
export const CHECKPOINT_VERSION = 1;

/** A decoded checkpoint string. */
export interface MagicCheckpoint {
  /** The magic that made it (`adapter`). */
  magic: string;
  /** Epochs completed. */
  epoch: number;
  /** Steps taken. */
  step: number;
  /** The core's training checkpoint (safetensors bytes). */
  bytes: Uint8Array;
}

/** Encodes a checkpoint string. */
export function encodeCheckpoint(checkpoint: MagicCheckpoint): string {
  const { magic, epoch, step, bytes } = checkpoint;
  return JSON.stringify({ format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, magic, epoch, step, safetensors: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') });
}

/**
 * Decodes a checkpoint string for `magic`; throws with a clear message when it is not one, is of a
 * newer version, or was made by another magic.
 */
export function decodeCheckpoint(text: string, magic: string): MagicCheckpoint {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`%%${magic}: the checkpoint to resume from is not a HyperLab checkpoint (not JSON: ${JSON.stringify(text.slice(0, 40))}…)`);
  }
  if (value === null || typeof value !== 'object' || value.format !== CHECKPOINT_FORMAT) throw new Error(`%%${magic}: the checkpoint to resume from is not a HyperLab checkpoint (format ${JSON.stringify((value as { format?: unknown } | null)?.format)})`);
  if (value.version !== CHECKPOINT_VERSION) throw new Error(`%%${magic}: checkpoint version ${String(value.version)} is not one this HyperLab reads (${CHECKPOINT_VERSION})`);
  if (value.magic !== magic) throw new Error(`%%${magic}: the checkpoint was made by %%${String(value.magic)}; a trial resumes only a checkpoint of its own magic`);
  if (typeof value.safetensors !== 'string' || !Number.isInteger(value.epoch) || !Number.isInteger(value.step)) throw new Error(`%%${magic}: the checkpoint lacks its epoch, step or safetensors fields`);
  const buffer = Buffer.from(value.safetensors, 'base64');
  return { magic, epoch: value.epoch as number, step: value.step as number, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
}

/** The outcome's checkpoint field, when there is one to set. */
export function checkpointField(magic: string, checkpoint: Omit<MagicCheckpoint, 'magic'> | undefined): Pick<ExperimentOutcome, 'checkpoint'> {
  return checkpoint ? { checkpoint: encodeCheckpoint({ magic, ...checkpoint }) } : {};
}
