/** Experiment-magic templates as `%magic_templates` reports them, and the cells made from them. Pure, for tests. */

/** The MIME type of `%magic_templates`. */
export const MAGICS_MIME = 'application/vnd.hyperlab.magics.v1+json';

/** A ready-made body of a magic (one per adapter method for `%%adapter`). */
export interface TemplateVariant {
  key: string;
  help: string;
  template: string;
}

/** One experiment magic as the kernel describes it. */
export interface MagicTemplate {
  name: string;
  help: string;
  template: string;
  schema: Record<string, unknown>;
  variants?: TemplateVariant[];
}

/** One item of the "Insert experiment template" menu. */
export interface TemplateEntry {
  /** What the menu shows. */
  label: string;
  /** The magic (`adapter`). */
  magic: string;
  /** Stem of the suggested `--as` name (`lora` → `lora1`). */
  stem: string;
  /** The YAML body. */
  template: string;
}

/** The menu: a magic with variants offers one entry per variant (`%%adapter · lora — …`), else its template. */
export function templateEntries(templates: MagicTemplate[]): TemplateEntry[] {
  return templates.flatMap((t) => {
    const variants = (t.variants ?? []).filter((v) => typeof v?.key === 'string' && typeof v.template === 'string');
    if (variants.length === 0) return [{ label: `%%${t.name} — ${t.help}`, magic: t.name, stem: t.name, template: t.template }];
    return variants.map((v) => ({ label: `%%${t.name} · ${v.key} — ${v.help}`, magic: t.name, stem: v.key.replace(/[^\w$]/g, '_'), template: v.template }));
  });
}

/** The templates in `%magic_templates`' outputs. */
export function templatesOf(displays: Array<Record<string, unknown>>): MagicTemplate[] {
  for (const data of displays) {
    const value = data[MAGICS_MIME] as { magics?: MagicTemplate[] } | undefined;
    if (value && Array.isArray(value.magics)) return value.magics.filter((m) => typeof m.name === 'string' && typeof m.template === 'string');
  }
  return [];
}

/** The cell text for a menu entry: the magic line with a fresh `--as` name, then the YAML body. */
export function templateCell(entry: TemplateEntry, taken: ReadonlySet<string>): string {
  let n = 1;
  while (taken.has(`${entry.stem}${n}`)) n++;
  return `%%${entry.magic} --as ${entry.stem}${n}\n${entry.template.replace(/\n+$/, '')}`;
}

/** Variable names the notebook's `--as` flags already use. */
export function takenNames(sources: string[]): Set<string> {
  const taken = new Set<string>();
  for (const source of sources) for (const match of source.matchAll(/--as[= ]([A-Za-z_$][\w$]*)/g)) taken.add(match[1]);
  return taken;
}

