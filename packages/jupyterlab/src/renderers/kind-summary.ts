/**
 * One line summing up a run by its kind, for the run card's header: a continual run's ACC, BWT,
 * FWT and forgetting; a hypernetwork's compression ratio and sizes; a sweep's algorithm, trials and
 * best trial. Pure, for tests.
 */
import { accuracyMatrix } from '../experiments/accuracy-matrix';
import { experimentKind } from '../experiments/kind';
import { sweepSummary } from '../experiments/sweep-outcome';
import { decodeNumber, type RunRecord } from '../records';

const percent = (v: number): string => `${v < 0 ? '−' : ''}${Math.abs(100 * v).toFixed(2)} %`;
const count = (v: number): string => v.toLocaleString('en-US');
const short = (v: unknown): string => (typeof v === 'number' ? String(Number.isInteger(v) ? v : Number(v.toPrecision(4))) : JSON.stringify(v));

/** The summary's parts (empty for a plain adapter or experiment run). */
export function kindSummary(record: RunRecord): string[] {
  const m = (name: string): number => decodeNumber(record.metrics?.[name]);
  const parts: string[] = [];
  const kind = experimentKind(record);
  if (kind === 'sweep') {
    const sweep = sweepSummary(record);
    if (!sweep) return parts;
    parts.push(`${sweep.algorithm || 'sweep'} · ${sweep.trials.length} trial${sweep.trials.length === 1 ? '' : 's'}`);
    const best = sweep.trials.find((t) => t.trialId === sweep.bestTrialId);
    if (best) {
      const params = Object.entries(best.params).map(([k, v]) => `${k} ${short(v)}`).join(', ');
      parts.push(`best ${best.trialId}: ${sweep.objective.metric} ${short(best.value)} (${sweep.objective.mode})${params ? ` with ${params}` : ''}`);
    }
    return parts;
  }
  const cl = [['ACC', 'acc'], ['BWT', 'bwt'], ['FWT', 'fwt'], ['forgetting', 'forgetting']]
    .filter(([, name]) => Number.isFinite(m(name)))
    .map(([label, name]) => `${label} ${percent(m(name))}`);
  if (cl.length && accuracyMatrix(record)) parts.push(cl.join(' · '));
  if (kind === 'hypernet' && Number.isFinite(m('compressionRatio'))) {
    const sizes = Number.isFinite(m('hypernetParams')) && Number.isFinite(m('targetParams')) ? ` (${count(m('hypernetParams'))} hypernetwork / ${count(m('targetParams'))} target parameters)` : '';
    parts.push(`compression ${short(m('compressionRatio'))}${sizes}`);
  }
  return parts;
}
