/** The extension's settings (`schema/plugin.json`), kept current for the other parts. */
import { Signal, type ISignal } from '@lumino/signaling';

/** The settings' values. */
export interface HyperlabSettings {
  /** Live figure updates per second at most (sent to HyperLab kernels). */
  liveUpdateRate: number;
  /** Relative tolerance of "Verify reproducibility". */
  verifyRtol: number;
  /** Absolute tolerance of "Verify reproducibility". */
  verifyAtol: number;
}

/** The defaults, as in the schema. */
export const DEFAULT_SETTINGS: HyperlabSettings = { liveUpdateRate: 2, verifyRtol: 0, verifyAtol: 0 };

/** Current settings and a signal when they change. */
export class SettingsStore {
  private current: HyperlabSettings = { ...DEFAULT_SETTINGS };
  private readonly changedSignal = new Signal<this, HyperlabSettings>(this);

  /** The current values. */
  get values(): HyperlabSettings {
    return this.current;
  }

  /** Emitted with the new values. */
  get changed(): ISignal<this, HyperlabSettings> {
    return this.changedSignal;
  }

  /** Replaces the values (from the setting registry). */
  update(values: Partial<HyperlabSettings>): void {
    this.current = { ...DEFAULT_SETTINGS, ...values };
    this.changedSignal.emit(this.current);
  }
}
