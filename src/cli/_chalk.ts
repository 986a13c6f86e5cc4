/**
 * chalk as cmd-ts uses it, made of picocolors, so that the bundle ships one colour library
 * (issue 26, item 8): scripts/build.mjs resolves cmd-ts's `import chalk from "chalk"` to this
 * file. cmd-ts colours its own messages with chalk's styles (`chalk.dim(text)`) and one chain
 * (`chalk.red.bold(text)`); every style here takes one more as a property. picocolors decides
 * when to colour as the rest of the command does (a terminal, no NO_COLOR). Deno runs the sources,
 * where cmd-ts keeps its own chalk.
 */
import pc from "picocolors";

/** The styles cmd-ts 0.15 calls (grey as gray's other spelling). */
const STYLES = ["bold", "dim", "italic", "underline", "red", "green", "yellow", "blue", "cyan", "gray"] as const;
type Style = (typeof STYLES)[number] | "grey";
/** Every name chalk answers to here. */
const NAMES: readonly Style[] = [...STYLES, "grey"];
/** picocolors' function for a style. */
const styleOf = (name: Style) => pc[name === "grey" ? "gray" : name];

/** One style: a function of the text, and every style again as a property (one level of chain). */
export type Painter = ((...text: unknown[]) => string) & Record<Style, (...text: unknown[]) => string>;

const joined = (text: unknown[]) => text.map(String).join(" ");

function painter(outer: (s: string) => string): Painter {
  const f = (...text: unknown[]) => outer(joined(text));
  const chained = Object.fromEntries(
    NAMES.map((name) => {
      const inner = styleOf(name);
      return [name, (...text: unknown[]) => outer(inner(joined(text)))];
    }),
  ) as Record<Style, (...text: unknown[]) => string>;
  return Object.assign(f, chained);
}

/**
 * chalk's default export, as far as cmd-ts reaches into it.
 *
 * @example
 * ```ts
 * import chalk from "./_chalk.ts";
 * chalk.red.bold("error:"); // "\x1b[1m\x1b[31merror:\x1b[39m\x1b[22m" on a terminal
 * ```
 */
const chalk: Record<Style, Painter> = Object.fromEntries(
  NAMES.map((name) => [name, painter(styleOf(name))]),
) as Record<Style, Painter>;

export default chalk;
