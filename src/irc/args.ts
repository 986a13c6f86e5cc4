/**
 * `wasi-py --irc ...` arguments: the cmd-ts definitions, argv → flags, flags → settings (numbers
 * read by their spec's parser, so `--timeout 2.5` is 2500 ms as on the command line), and the
 * `--irc --help` page, all derived from the one settings schema (settings.ts).
 */
import { array, boolean, command, flag, multioption, option, optional, parse, string } from "cmd-ts";
import { IRC_NUMERIC_BY_KEY, IRC_SETTINGS } from "./settings.ts";
import type { IrcNumericKey, IrcSetting, IrcWordKey } from "./settings.ts";
import { IRC_EXIT_CODE_TABLE } from "../options/exit-codes.ts";
import { helpLine, OptionError, readOptionText } from "../options/spec.ts";
import { IrcConfigError } from "./config.ts";
import type { IrcSettingsInput } from "./config.ts";

/** The cmd-ts definition of one setting's flag: lists repeat, booleans take no value, the rest take text. */
function argOf(s: IrcSetting, flagName: string) {
  const type = "number" in s ? "text" : s.word.type;
  if (type === "list") return multioption({ type: array(string), long: flagName });
  if (type === "boolean") return flag({ type: optional(boolean), long: flagName });
  return option({ type: optional(string), long: flagName });
}

/** The flags of every setting that has one, by setting name. */
function settingArgs() {
  const out = {} as Record<IrcNumericKey | IrcWordKey, ReturnType<typeof argOf>>;
  for (const s of IRC_SETTINGS) {
    const f = "number" in s ? s.number.flag : s.word.flag;
    if (f !== undefined) out[s.name] = argOf(s, f);
  }
  return out;
}

/** cmd-ts definitions of every IRC option (`wasi-py --irc ...`): three of the command's own, then the settings'. */
export const ircArgs = {
  irc: flag({ type: optional(boolean), long: "irc" }),
  help: flag({ type: optional(boolean), long: "help", short: "h" }),
  ircConfig: option({ type: optional(string), long: "config", short: "c" }),
  ...settingArgs(),
};

/** What cmd-ts hands over for `ircArgs` (all optional; defaults come from the config). */
export type IrcFlags = Partial<Record<keyof typeof ircArgs, unknown>>;

/** Flags that are not settings. */
const NOT_SETTINGS = new Set(["ircConfig", "irc", "help"]);

/**
 * Turns parsed flags into settings, numeric values read by their option's parser (the secrets
 * never come from flags). Throws IrcConfigError naming the flag.
 *
 * @example
 * settingsFromFlags({ timeoutMs: "2.5", nick: "pybot" }); // { timeoutMs: 2500, nick: "pybot" }
 */
export function settingsFromFlags(flags: IrcFlags): IrcSettingsInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (NOT_SETTINGS.has(k) || v === undefined || v === false) continue;
    const spec = IRC_NUMERIC_BY_KEY.get(k as IrcNumericKey);
    if (spec === undefined || typeof v !== "string") {
      out[k] = v;
      continue;
    }
    try {
      out[k] = readOptionText(spec, v);
    } catch (e) {
      if (e instanceof OptionError) throw new IrcConfigError(e.message);
      throw e;
    }
  }
  return out as IrcSettingsInput;
}

const ircCommand = command({ name: "wasi-py --irc", args: ircArgs, handler: (v) => v });

/** What parseIrcArgv found. */
export type ParsedIrcArgs = { kind: "run"; flags: IrcFlags } | { kind: "help" } | { kind: "error"; message: string };

/**
 * Parses `wasi-py --irc ...` arguments; usage errors come back as one line.
 *
 * @example
 * await parseIrcArgv(["--irc", "--bogus"]); // { kind: "error", message: "unknown IRC option --bogus" }
 */
export async function parseIrcArgv(argv: string[]): Promise<ParsedIrcArgs> {
  const r = await parse(ircCommand, argv);
  if (r._tag === "error") {
    const first = (r.error as { errors: { message: string; nodes: { raw?: string }[] }[] }).errors[0];
    const raw = first?.nodes?.[0]?.raw;
    const msg = first?.message === "Unknown arguments" && raw
      ? `unknown IRC option ${raw}`
      : (first?.message ?? "invalid arguments");
    return { kind: "error", message: msg.replace(/\s*\n\s*/g, " ") };
  }
  const v = r.value as IrcFlags;
  if (v.help) return { kind: "help" };
  return { kind: "run", flags: v };
}

/** Defaults the table cannot say as a number. */
const DEFAULT_TEXT: Partial<Record<IrcNumericKey, string>> = {
  port: "6667, 6697 with --tls",
  workers: "CPU cores, at least 2",
};

/**
 * One setting's help row: [flag column, meaning with default, range and `[configKey]`]; a
 * setting without a flag shows `(file)`.
 *
 * @example
 * helpRow(IRC_SETTINGS[0]!); // ["--server HOST[:PORT]", "IRC server (required) [server]"]
 */
export function helpRow(s: IrcSetting): readonly [string, string] {
  if ("number" in s) {
    const n = s.number;
    return [`--${n.flag} ${n.valueName}`, `${helpLine(n, DEFAULT_TEXT[s.name as IrcNumericKey])} [${n.configKey}]`];
  }
  const w = s.word;
  const col = w.flag === undefined ? "(file)" : `--${w.flag}${w.valueName ? ` ${w.valueName}` : ""}`;
  const def = w.defaultText ?? (w.default === undefined || w.default === false ? undefined : String(w.default));
  return [col, `${w.help}${def === undefined ? "" : ` (default ${def})`} [${w.configKey}]`];
}

/**
 * Help for `wasi-py --irc --help`: every option with its default, range and config key.
 *
 * @example
 * ircHelpText().includes("--timeout SECONDS"); // true
 */
export function ircHelpText(): string {
  const rows: (readonly [string, string])[] = [
    ["-c, --config FILE", "JSON file with any of the settings below (keys as in brackets); flags override it"],
    ...IRC_SETTINGS.map(helpRow),
  ];
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  const exits = IRC_EXIT_CODE_TABLE.map(([c, what]) => `  ${c.padEnd(5)}${what}`).join("\n");
  return (
    "Usage: wasi-py --irc --server HOST[:PORT] --nick NICK [--channel '#chan' ...] [options]\n\n" +
    "Answers `!py <code>` (and `NICK: <code>`, and private queries) by running the code in the sandbox.\n\n" +
    rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join("\n") +
    "\n\nExit status\n" + exits + "\n"
  );
}
