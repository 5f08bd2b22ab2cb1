/** Experiment-magic templates as `%magic_templates` reports them, and the cells made from them. Pure, for tests. */

/** The MIME type of `%magic_templates`. */
export const MAGICS_MIME = 'application/vnd.hyperlab.magics.v1+json';

/** One experiment magic as the kernel describes it. */
export interface MagicTemplate {
  name: string;
  help: string;
  template: string;
  schema: Record<string, unknown>;
}

/** The templates in `%magic_templates`' outputs. */
export function templatesOf(displays: Array<Record<string, unknown>>): MagicTemplate[] {
  for (const data of displays) {
    const value = data[MAGICS_MIME] as { magics?: MagicTemplate[] } | undefined;
    if (value && Array.isArray(value.magics)) return value.magics.filter((m) => typeof m.name === 'string' && typeof m.template === 'string');
  }
  return [];
}

/** The cell text for a template: the magic line with a fresh `--as` name, then the YAML body. */
export function templateCell(template: MagicTemplate, taken: ReadonlySet<string>): string {
  let n = 1;
  while (taken.has(`${template.name}${n}`)) n++;
  return `%%${template.name} --as ${template.name}${n}\n${template.template.replace(/\n+$/, '')}`;
}

/** Variable names the notebook's `--as` flags already use. */
export function takenNames(sources: string[]): Set<string> {
  const taken = new Set<string>();
  for (const source of sources) for (const match of source.matchAll(/--as[= ]([A-Za-z_$][\w$]*)/g)) taken.add(match[1]);
  return taken;
}

