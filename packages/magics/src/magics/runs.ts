/** `%runs`: this session's runs as a table (name, magic, method, main metrics, size, time, hash). */
import type { LineMagic } from '@hyperlab/kernel/magics';
import { asDisplay } from '../figures/live.js';
import { formatMetric } from '../run-card.js';
import { session, type SessionRun } from '../session.js';
import { tableBundle, type Table } from '../tables.js';

/** The method a run used, when its config says. */
export function methodOf(run: SessionRun): string {
  const adapter = run.record.config.adapter as { method?: unknown } | undefined;
  return typeof adapter?.method === 'string' ? adapter.method : '';
}

/** The `%runs` table of some runs. */
export function runsTable(runs: SessionRun[]): Table {
  const metricNames = [...new Set(runs.flatMap((run) => Object.keys(run.record.metrics)))];
  return {
    header: ['run', 'magic', 'method', ...metricNames, 'time', 'hash'],
    rows: runs.map((run) => [
      run.name,
      run.magic,
      methodOf(run),
      ...metricNames.map((m) => (run.record.metrics[m] === undefined ? '' : formatMetric(run.record.metrics[m]))),
      `${(run.record.timings.totalMs / 1000).toFixed(1)} s`,
      run.record.contentHash.slice(0, 10),
    ]),
  };
}

/** `%runs`. */
export const runsMagic: LineMagic = {
  kind: 'line',
  name: 'runs',
  help: "List this session's runs with their metrics: %runs.",
  run(ctx) {
    const runs = [...session.runs.values()];
    if (runs.length === 0) {
      ctx.print('No runs yet in this session (run %%adapter or %%experiment).');
      return;
    }
    ctx.display(asDisplay(tableBundle(runsTable(runs), `${runs.length} run${runs.length === 1 ? '' : 's'}`)));
  },
};
