/**
 * Magics a front end (the HyperLab JupyterLab extension) calls in the notebook's kernel:
 *
 * - `%magic_templates`: every experiment magic's name, help, YAML template, JSON Schema and
 *   ready-made variants (one per adapter method for `%%adapter`), as
 *   `application/vnd.hyperlab.magics.v1+json` (for "Insert experiment template").
 * - `%live_rate N`: live outputs update at most N times a second (the extension's setting).
 * - `%report NOTEBOOK [-o OUT.html]`: the `hyperlab report` of a saved notebook, written beside it.
 */
import * as path from 'node:path';
import type { LineMagic } from '@hyperlab/kernel/magics';
import { UsageError } from '../config/yaml-config.js';
import { experimentMagics } from '../experiment-magic.js';
import { asDisplay } from '../figures/live.js';
import { session } from '../session.js';

/** The MIME type of `%magic_templates`' output. */
export const MAGICS_MIME = 'application/vnd.hyperlab.magics.v1+json';

/** `%magic_templates`. */
export const magicTemplatesMagic: LineMagic = {
  kind: 'line',
  name: 'magic_templates',
  help: 'Show the experiment magics with their YAML templates and JSON Schemas (for front ends).',
  run(ctx) {
    const magics = [...experimentMagics.values()].map((spec) => ({ name: spec.name, help: spec.help, template: spec.template, schema: spec.schema(), variants: spec.variants?.() ?? [] }));
    const lines = magics.flatMap((m) => [`%%${m.name}: ${m.help}`, ...m.variants.map((v) => `    ${v.key}: ${v.help}`)]);
    ctx.display(asDisplay({ [MAGICS_MIME]: { magics }, 'text/plain': lines.join('\n') }));
  },
};

/** `%live_rate`. */
export const liveRateMagic: LineMagic = {
  kind: 'line',
  name: 'live_rate',
  help: 'Set (or show) how many times a second live figures and progress lines may update: %live_rate N (0: only at the end).',
  run(ctx) {
    const word = ctx.argv[0];
    if (word !== undefined) {
      const rate = Number(word);
      if (!(rate >= 0 && rate <= 30)) throw new UsageError(`%live_rate (cell line ${ctx.line}) expects a number from 0 to 30, got "${word}"`);
      session.liveRate = rate;
    }
    ctx.print(`Live updates: at most ${session.liveRate} per second`);
  },
};

/** `%report`. */
export const reportMagic: LineMagic = {
  kind: 'line',
  name: 'report',
  help: 'Write the self-contained HTML report of a saved notebook: %report NOTEBOOK.ipynb [-o OUT.html].',
  async run(ctx) {
    const [notebook, flag, out, ...rest] = ctx.argv;
    if (!notebook || (flag !== undefined && (flag !== '-o' || !out)) || rest.length) {
      throw new UsageError(`%report (cell line ${ctx.line}): usage: %report NOTEBOOK.ipynb [-o OUT.html]`);
    }
    const { readNotebook, writeReport } = await import('@hyperlab/notebook');
    const file = path.resolve(notebook);
    const target = path.resolve(out ?? file.replace(/\.ipynb$/i, '') + '.html');
    let nb;
    try {
      nb = readNotebook(file);
    } catch (error) {
      throw new UsageError(`%report: ${(error as Error).message}`);
    }
    await writeReport(nb, target, { notebookPath: file });
    ctx.print(`Report: ${target}`);
  },
};
