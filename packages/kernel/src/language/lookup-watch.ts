/**
 * Whether a file has appeared at any of the places where an unresolved import was looked for,
 * without testing every place on every check. A new file or folder changes the modification time
 * of the folder it is created in, so each place is watched through its nearest folder that exists
 * now: only when that folder's time has changed (or it is gone) are its places tested again. Tens
 * of `stat` calls instead of hundreds per check (the speculative check asks before every cell). It
 * relies on the file system recording folder times finely (ext4, xfs, btrfs and tmpfs: nanoseconds).
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';

/** The modification time of `dir` in ms, or undefined when it does not exist (or is not a folder). */
function folderTime(dir: string): number | undefined {
  try {
    const stat = statSync(dir, { throwIfNoEntry: false });
    return stat?.isDirectory() ? stat.mtimeMs : undefined;
  } catch {
    return undefined;
  }
}

/** The nearest ancestor of `file` that is an existing folder, with its time (`times` memoizes folder times). */
function nearestFolder(file: string, times: Map<string, number | undefined>): { dir: string; time: number } | undefined {
  let dir = path.dirname(file);
  for (;;) {
    if (!times.has(dir)) times.set(dir, folderTime(dir));
    const time = times.get(dir);
    if (time !== undefined) return { dir, time };
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Watches lookup locations (see the module comment). */
export class LookupWatch {
  private readonly folders = new Map<string, { time: number; locations: string[] }>();

  /** Every watched place, in the order given. */
  readonly locations: readonly string[];

  /** @param locations - where lookups failed; `exists` tests one place (default: the file system). */
  constructor(
    locations: Iterable<string>,
    private readonly exists: (location: string) => boolean,
  ) {
    this.locations = [...locations];
    // Thousands of places share a few folders (every extension tried in every node_modules).
    const times = new Map<string, number | undefined>();
    for (const location of this.locations) {
      const folder = nearestFolder(location, times);
      // No existing ancestor at all: nothing can be watched more cheaply than the place itself.
      const key = folder?.dir ?? location;
      const entry = this.folders.get(key) ?? { time: folder?.time ?? Number.NaN, locations: [] };
      entry.locations.push(location);
      this.folders.set(key, entry);
    }
  }

  /** How many folders are watched (each {@link appeared} call stats each once). */
  get folderCount(): number {
    return this.folders.size;
  }

  /** Some watched place exists now. */
  appeared(): boolean {
    for (const [dir, entry] of this.folders) {
      const time = folderTime(dir);
      if (time !== undefined && time === entry.time) continue;
      if (entry.locations.some((location) => this.exists(location))) return true;
      // Touched, but none of ours appeared (another file came or went): remember the new time.
      if (time !== undefined) entry.time = time;
    }
    return false;
  }
}
