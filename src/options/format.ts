/**
 * The `irc` output format's limits (--max-lines, --max-bytes): options of the command and, for
 * --max-lines, of the bot, but not run limits, so kept apart from limits.ts (which the sandbox
 * worker loads and which therefore imports nothing from text/).
 */
import { COUNT } from "./spec.ts";
import type { OptionSpec } from "./spec.ts";
import { IRC_DEFAULTS, MIN_MAX_BYTES } from "../text/messages.ts";

/** How the `irc` format cuts a result: the CLI's --max-lines/--max-bytes (the bot's maxLines is in irc.ts). */
export const FORMAT_LIMITS = {
  maxLines: {
    key: "maxLines",
    configKey: "maxLines",
    flag: "max-lines",
    kind: COUNT,
    valueName: "N",
    unit: "a number of messages",
    default: IRC_DEFAULTS.maxLines,
    min: 1,
    max: 100,
    help: "irc format: most messages",
  },
  maxBytes: {
    key: "maxBytes",
    configKey: "maxBytes",
    flag: "max-bytes",
    kind: COUNT,
    valueName: "BYTES",
    unit: "bytes",
    default: IRC_DEFAULTS.maxBytes,
    min: MIN_MAX_BYTES,
    max: 65_536,
    help: "irc format: longest message in UTF-8 bytes",
  },
} as const satisfies Record<string, OptionSpec>;
