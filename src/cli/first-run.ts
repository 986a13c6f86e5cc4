/**
 * The first run on an empty asset cache spends 1.5-4 s expanding the interpreter and its stdlib
 * (src/sandbox/assets.ts) before anything is printed; on a terminal the command says so once, on
 * stderr, so that the pause is not taken for a hang. Not when stderr is a pipe or a file (scripts
 * and tests read exact output), and not on later runs (the cache then holds the expanded files).
 */
import { assetsLookExpanded } from "../sandbox/assets.ts";
import { defaultCacheDir } from "../platform/cache-dirs.ts";
import type { AssetName } from "../sandbox/assets.ts";
import { isTerminal, writeStderr } from "../platform/process.ts";

/** What a one-shot run or a batch expands on its first start (the unmetered module is the bench's). */
const RUN_ASSETS: readonly AssetName[] = ["python.wasm", "stdlib.tar"];

/** What firstRunNotice decides from. */
export interface FirstRunState {
  stderrIsTerminal: boolean;
  /** The cache already holds the expanded assets. */
  expanded: boolean;
  /** Where they will be expanded. */
  cacheDir: string;
}

/**
 * The notice for this start, or undefined when there is nothing to say.
 *
 * @example
 * firstRunNotice({ stderrIsTerminal: true, expanded: false, cacheDir: "/c" });
 * // "wasi-py: first run: preparing the interpreter in /c (once, a few seconds)\n"
 */
export function firstRunNotice(state: FirstRunState): string | undefined {
  if (!state.stderrIsTerminal || state.expanded) return undefined;
  return `wasi-py: first run: preparing the interpreter in ${state.cacheDir} (once, a few seconds)\n`;
}

/** Writes the first-run notice when there is one (best effort: a failed write is not worth an error). */
export async function noteFirstRun(): Promise<void> {
  if (!isTerminal(2)) return; // the common case in scripts: not even a stat
  const notice = firstRunNotice({
    stderrIsTerminal: true,
    expanded: assetsLookExpanded(RUN_ASSETS),
    cacheDir: defaultCacheDir(),
  });
  if (notice !== undefined) await writeStderr(notice).catch(() => {});
}
