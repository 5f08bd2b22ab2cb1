/**
 * snake_case spellings of config keys, as PEFT and Avalanche users type them (`lora_alpha`,
 * `ewc_lambda`, `target_modules`), accepted as aliases of HyperLab's camelCase keys. The YAML
 * document's keys are renamed in place, so validation, cell-line positions and the recorded config
 * all see the canonical key; the original spelling is kept for messages.
 */
import { isScalar, visit, type Document, type Node } from 'yaml';

/** `lora_alpha` → `loraAlpha`; undefined for a key that is not snake_case. */
export function camelCaseKey(key: string): string | undefined {
  if (!/^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(key)) return undefined;
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A key written in snake_case and renamed. */
export interface KeyAlias {
  /** The key as written. */
  written: string;
  /** The canonical camelCase key. */
  canonical: string;
  /** Offset of the key in the body. */
  offset: number;
}


/**
 * Renames every snake_case key of `doc`'s mappings to camelCase. Returns the renamed keys, and
 * the ones that could not be renamed because the mapping also has the camelCase key.
 */
export function canonicalizeKeys(doc: Document): { aliases: KeyAlias[]; duplicates: KeyAlias[] } {
  const aliases: KeyAlias[] = [];
  const duplicates: KeyAlias[] = [];
  visit(doc, {
    Map(_, map) {
      const keys = new Set(map.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : undefined)));
      for (const pair of map.items) {
        if (!isScalar(pair.key) || typeof pair.key.value !== 'string') continue;
        const canonical = camelCaseKey(pair.key.value);
        if (!canonical) continue;
        const offset = (pair.key as Node).range?.[0] ?? 0;
        if (keys.has(canonical)) {
          duplicates.push({ written: pair.key.value, canonical, offset });
          continue;
        }
        aliases.push({ written: pair.key.value, canonical, offset });
        pair.key.value = canonical;
        keys.add(canonical);
      }
    },
  });
  return { aliases, duplicates };
}
