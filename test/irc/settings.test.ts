/**
 * The bot's one settings schema: for every setting of the table, its flag, its config key, its
 * help row and its validation are the schema's (a setting added to the table gets all four; one
 * declared anywhere else is caught here).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { helpRow, ircArgs, ircHelpText, parseIrcArgv, settingsFromFlags } from "../../src/irc/args.ts";
import { checkConfigFile, IrcConfigError } from "../../src/irc/config.ts";
import { camel, configKeyOf, flagOf, IRC_SETTINGS } from "../../src/irc/settings.ts";
import type { IrcSetting } from "../../src/irc/settings.ts";

/** A valid value of the setting as flag argv and as a config value, and the value it reads as. */
function sample(s: IrcSetting): { argv: string[]; json: unknown; value: unknown } {
  const f = `--${flagOf(s)}`;
  if ("number" in s) {
    const text = s.number.kind.show(s.number.default);
    return { argv: [f, text], json: text, value: s.number.default };
  }
  if (s.word.type === "boolean") return { argv: [f], json: true, value: true };
  if (s.word.type === "list") return { argv: [f, "a", f, "b"], json: ["a", "b"], value: ["a", "b"] };
  return { argv: [f, "x"], json: "x", value: "x" };
}

/** A config value of the wrong type for the setting. */
const wrongType = (s: IrcSetting) => ("number" in s ? [] : s.word.type === "text" ? 1 : "x");

const quiet = () => {};
const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("IRC settings schema", () => {
  it("names, flags and config keys are each used once", () => {
    for (const names of [IRC_SETTINGS.map((s) => s.name), IRC_SETTINGS.flatMap((s) => flagOf(s) ?? [])]) {
      assert.equal(new Set(names).size, names.length, names.join());
    }
    const keys = IRC_SETTINGS.map(configKeyOf);
    assert.equal(new Set(keys).size, keys.length, keys.join());
  });
  it("the command's flags are the schema's flags, and nothing else", () => {
    const own = ["irc", "help", "ircConfig"];
    const withFlag = IRC_SETTINGS.filter((s) => flagOf(s) !== undefined).map((s) => s.name);
    assert.deepEqual(Object.keys(ircArgs).sort(), [...own, ...withFlag].sort());
  });
  for (const s of IRC_SETTINGS) {
    const flag = flagOf(s);
    const key = configKeyOf(s);
    describe(`${s.name} (${flag === undefined ? "file only" : `--${flag}`}, ${key})`, () => {
      it("its config key is its flag's word (a list's in the plural, a number's with its unit)", () => {
        if (flag === undefined) return assert.equal(key, s.name);
        const stem = camel(flag);
        assert.ok([stem, `${stem}s`, `${stem}Seconds`, `${stem}MiB`, `${stem}Bytes`].includes(key), `${flag} ${key}`);
      });
      if (flag !== undefined) {
        it("its flag sets it", async () => {
          const { argv, value } = sample(s);
          const p = await parseIrcArgv(["--irc", ...argv]);
          assert.equal(p.kind, "run");
          if (p.kind !== "run") return;
          const set = Object.entries(settingsFromFlags(p.flags)).filter(([, v]) => !Array.isArray(v) || v.length);
          assert.deepEqual(Object.fromEntries(set), { [s.name]: value });
        });
      }
      it("its config key sets it; a wrong type is refused naming the key", () => {
        const { json, value } = sample(s);
        assert.deepEqual(checkConfigFile({ [key]: json }, "bot.json", quiet), { [s.name]: value });
        assert.throws(
          () => checkConfigFile({ [key]: wrongType(s) }, "bot.json", quiet),
          (e: Error) =>
            e instanceof IrcConfigError && e.message.startsWith(`bot.json: ${"number" in s ? "" : '"'}${key}`),
        );
      });
      it("its help row is in the help, with its config key", () => {
        const [col, text] = helpRow(s);
        assert.match(ircHelpText(), new RegExp(`\\n  ${esc(col)} +${esc(text)}\\n`));
        assert.ok(text.endsWith(`[${key}]`), text);
        assert.ok(col === "(file)" ? flag === undefined : col.startsWith(`--${flag}`), col);
      });
      if ("number" in s) {
        it("an out-of-range value is refused by the flag and the file alike, from the spec's bounds", () => {
          const n = s.number;
          const below = n.min > 0 ? String(n.min - 1) : "-1";
          assert.throws(
            () => settingsFromFlags({ [s.name]: below }),
            (e: Error) => e.message.startsWith(`--${flag} wants `),
          );
          assert.throws(
            () => checkConfigFile({ [key]: below }, "bot.json", quiet),
            (e: Error) => e.message.startsWith(`bot.json: ${key} wants `),
          );
        });
      }
    });
  }
});
