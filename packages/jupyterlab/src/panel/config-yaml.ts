/** A run's config as the YAML the config diff shows: keys sorted at every level, so diffs line up. */
import { stringify } from 'yaml';

/** The config as YAML with sorted keys (`{}` for an empty or missing config). */
export function configYaml(config: Record<string, unknown> | undefined): string {
  return stringify(config ?? {}, { sortMapEntries: true });
}
