/**
 * Names and values the user gave are quoted back at most 40 characters long, on one line, by
 * every front end: the bot's config file, the HTTP service's flags and config file, the command's
 * unknown options and batch lines (a megabyte key made a megabyte message line before).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cutShort, quoteShort } from "../../src/options/spec.ts";
import { checkConfigFile } from "../../src/irc/config.ts";
import { resolveServeConfig } from "../../src/serve/config.ts";
import { normaliseArgv } from "../../src/cli/argv.ts";
import { KNOWN_OPTIONS } from "../../src/cli/known.ts";
import { parseBatchLine } from "../../src/cli/batch.ts";

const huge = "k".repeat(1_000_000);

/** The message `f` throws (or returns). */
function messageOf(f: () => unknown): string {
  try {
    const r = f() as { message?: string };
    return r?.message ?? "";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

describe("quoteShort and cutShort", () => {
  const table: Array<[string, string, string]> = [
    ["short text as is", "abc", '"abc"'],
    ["40 characters kept whole", "x".repeat(40), `"${"x".repeat(40)}"`],
    ["41 cut to 40 and an ellipsis", "x".repeat(41), `"${"x".repeat(40)}…"`],
    ["a line break escaped", "a\nb", '"a\\nb"'],
  ];
  for (const [name, text, quoted] of table) it(name, () => assert.equal(quoteShort(text), quoted));
  it("cutShort cuts without quoting", () => assert.equal(cutShort("y".repeat(50)), `${"y".repeat(40)}…`));
});

describe("a megabyte name gives a short one-line message", () => {
  const serve = (argv: string[], files: Record<string, string> = {}) =>
    resolveServeConfig(
      {
        argv: ["--serve", ...argv],
        env: () => undefined,
        readText: (p) => files[p] ?? "",
      } as Parameters<typeof resolveServeConfig>[0],
    );
  const cases: Array<[string, () => unknown, RegExp]> = [
    ["bot config key", () => checkConfigFile({ [huge]: 1 }, "bot.json"), /^bot\.json: unknown setting "k{40}…"$/],
    ["bot config key with a line break", () => checkConfigFile({ "a\nb": 1 }, "f"), /^f: unknown setting "a\\nb"$/],
    [
      "service config key",
      () => serve(["--config", "c"], { c: JSON.stringify({ [huge]: 1 }) }),
      /^c: unknown setting "k{40}…"$/,
    ],
    ["service flag", () => serve([`--${huge}`]), /^unknown option --k{40}…$/],
    ["service argument", () => serve([huge]), /^unexpected argument "k{40}…" \(--serve takes only options\)$/],
    ["command option", () => normaliseArgv([`--${huge}`, "1"], KNOWN_OPTIONS), /^unknown option --k{40}… \(/],
    ["batch key", () => parseBatchLine(JSON.stringify({ code: "1", [huge]: 1 }), {}), /^unknown key "k{40}…" \(keys: /],
  ];
  for (const [name, f, re] of cases) {
    it(name, () => {
      const message = messageOf(f);
      assert.match(message, re);
      assert.ok(message.length < 200 && !message.includes("\n"), `${message.length} characters`);
    });
  }
});
