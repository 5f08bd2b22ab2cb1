/**
 * The main plugin: loads the settings (`schema/plugin.json`) into a {@link SettingsStore} that the
 * other plugins read, and keeps it current when the user edits them in the Settings editor.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { SettingsStore, type HyperlabSettings } from './settings';
import { IHyperlabSettings } from './tokens';

/** The plugin id; `schema/plugin.json` holds its settings. */
export const PLUGIN_ID = '@hyperlab/jupyterlab:plugin';

/** Loads the settings and follows their changes. */
async function activate(_app: JupyterFrontEnd, registry: ISettingRegistry | null): Promise<SettingsStore> {
  const store = new SettingsStore();
  if (registry) {
    try {
      const settings = await registry.load(PLUGIN_ID);
      const read = (): void => store.update(settings.composite as unknown as HyperlabSettings);
      read();
      settings.changed.connect(read);
    } catch (error) {
      console.warn(`${PLUGIN_ID}: settings not loaded, using the defaults`, error);
    }
  }
  return store;
}

/** The settings plugin. */
export const settingsPlugin: JupyterFrontEndPlugin<SettingsStore> = {
  id: PLUGIN_ID,
  description: "Loads HyperLab's settings and provides them to the other HyperLab plugins.",
  autoStart: true,
  optional: [ISettingRegistry],
  provides: IHyperlabSettings,
  activate,
};
