/**
 * The `irc` output format's limits (--max-lines, --max-bytes): options of the command and, for
 * --max-lines, of the bot, but not run limits, so kept apart from limits.ts. Declared here, with
 * their defaults, and read by the formatter (src/format/messages.ts): options/ imports nothing from
 * text/ or sandbox/ (test/layout/arrows.test.ts).
 */
import { COUNT } from "./spec.ts";
import type { OptionSpec } from "./spec.ts";

/** Smallest usable maxBytes of the `irc` format: room for a status line fragment and the cut mark. */
export const MIN_MAX_BYTES = 16;

/** How the `irc` format cuts a result: the CLI's --max-lines/--max-bytes (the bot's maxLines is in irc.ts). */
export const FORMAT_LIMITS = {
  maxLines: {
    key: "maxLines",
    configKey: "maxLines",
    flag: "max-lines",
    kind: COUNT,
    valueName: "N",
    unit: "a number of messages",
    default: 2,
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
    default: 400,
    min: MIN_MAX_BYTES,
    max: 65_536,
    help: "irc format: longest message in UTF-8 bytes",
  },
} as const satisfies Record<string, OptionSpec>;
