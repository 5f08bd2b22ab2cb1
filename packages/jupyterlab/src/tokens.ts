/** Tokens other plugins (and other extensions) can ask for. */
import { Token } from '@lumino/coreutils';
import type { SettingsStore } from './settings';

/** HyperLab's settings, kept current from the setting registry. */
export const IHyperlabSettings = new Token<SettingsStore>('@hyperlab/jupyterlab:settings', "HyperLab's settings (live plot rate, verify tolerances), kept current.");

/** Command ids, in one place. */
export namespace CommandIDs {
  export const verify = 'hyperlab:verify';
  export const insertTemplate = 'hyperlab:insert-template';
  export const exportReport = 'hyperlab:export-report';
  export const openPanel = 'hyperlab:open-experiments';
}
