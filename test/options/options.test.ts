/**
 * The option tables and value parsers: every spec's default lies within its bounds, its parser
 * reads back what it shows, its help line is present, and the parsers read what the README says.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BUNDLED_MEMORY_MIN_MIB, BUNDLED_RUN_LIMITS, CLI_RUN_LIMITS, RUN_LIMITS } from "../../src/options/limits.ts";
import { FORMAT_LIMITS } from "../../src/options/format.ts";
import { IRC_NUMERIC_SETTINGS } from "../../src/irc/settings.ts";
import { isValidValue, OptionError, rangeText, readOptionNumber, readOptionText } from "../../src/options/spec.ts";
import type { OptionSpec } from "../../src/options/spec.ts";
import {
  groupThousands,
  parseByteSize,
  parseCount,
  parseDecimal,
  parseFuel,
  parseSecondsToMs,
  showByteSize,
} from "../../src/options/parse.ts";
import { optionRows } from "../../src/cli/help.ts";
import { ircHelpText } from "../../src/irc/args.ts";
import {
  DEFAULT_LIMITS,
  isAllowedLimit,
  LIMIT_KEYS,
  LIMIT_RANGES,
  LimitError,
  resolveLimits,
} from "../../src/limits/mod.ts";

const ALL: [string, readonly OptionSpec[]][] = [
  ["run limits", Object.values(RUN_LIMITS)],
  ["irc format", Object.values(FORMAT_LIMITS)],
  ["bot settings", IRC_NUMERIC_SETTINGS],
];

describe("option tables", () => {
  for (const [table, specs] of ALL) {
    for (const s of specs) {
      it(`${table}: ${s.key} (--${s.flag}, ${s.configKey}): default in bounds, parser round trip, messages`, () => {
        assert.ok(s.min <= s.max, "min <= max");
        const def = s.key === "workers" ? 1 : s.default; // workers' 0 means "CPU cores"
        assert.ok(isValidValue(s, def) || (s.key === "workers" && s.default === 0), `default ${s.default}`);
        for (const v of [s.min, s.max, s.default]) {
          assert.equal(readOptionText(s, s.kind.show(v)), v, `show/parse ${v}`);
        }
        assert.ok(s.kind.parse(s.kind.showDefault(s.default)) === s.default, "the help's default reads back");
        assert.throws(
          () => readOptionText(s, "nonsense"),
          (e: Error) => e instanceof OptionError && e.message === `--${s.flag} wants ${rangeText(s)}, got "nonsense"`,
        );
        assert.throws(
          () => readOptionNumber(s, -1),
          (e: Error) => e instanceof OptionError && e.message.startsWith(`${s.configKey} wants`),
        );
        if (!s.kind.unlimited && s.max < Number.MAX_SAFE_INTEGER) {
          assert.throws(() => readOptionText(s, s.kind.show(s.max * 2 + 1)), OptionError, "above max");
        }
      });
    }
  }
  it("every flag and config key is named once per front end", () => {
    for (const specs of [[...CLI_RUN_LIMITS, ...Object.values(FORMAT_LIMITS)], IRC_NUMERIC_SETTINGS]) {
      const flags = specs.map((s) => s.flag);
      const keys = specs.map((s) => s.configKey);
      assert.equal(new Set(flags).size, flags.length, flags.join());
      assert.equal(new Set(keys).size, keys.length, keys.join());
    }
  });
  it("config keys carry the unit their flag takes", () => {
    for (const s of IRC_NUMERIC_SETTINGS) {
      if (s.unit === "seconds") assert.match(s.configKey, /Seconds$/, s.configKey);
      if (/Ms$/.test(s.configKey)) assert.match(s.flag, /-ms$/, s.flag);
    }
  });
  it("the bot's run limits share the command's parser and bounds", () => {
    // Every front end runs the bundled interpreter: memory from its floor, the rest as the library's table.
    const cliMemory = CLI_RUN_LIMITS.find((s) => s.key === "memoryMiB")!;
    assert.equal(cliMemory, BUNDLED_RUN_LIMITS.memoryMiB);
    assert.deepEqual([cliMemory.min, RUN_LIMITS.memoryMiB.min], [BUNDLED_MEMORY_MIN_MIB, 1]);
    const same = (a: OptionSpec, b: OptionSpec) =>
      [a.kind, a.min, a.max, a.unit].every((v, i) => v === [b.kind, b.min, b.max, b.unit][i]);
    const byKey = new Map(IRC_NUMERIC_SETTINGS.map((s) => [s.key, s]));
    for (
      const [k, variants] of [
        ["fuel", ["fuel", "adminFuel", "maxFuel"]],
        ["timeoutMs", ["timeoutMs", "adminTimeoutMs", "maxTimeoutMs"]],
        ["memoryMiB", ["memoryMiB", "adminMemoryMiB", "maxMemoryMiB"]],
        ["maxOutputBytes", ["maxOutputBytes", "adminMaxOutputBytes", "maxMaxOutputBytes"]],
      ] as const
    ) {
      for (const v of variants) assert.ok(same(byKey.get(v)!, BUNDLED_RUN_LIMITS[k]), v);
    }
    assert.deepEqual([byKey.get("maxLines")!.min, byKey.get("maxLines")!.max], [
      FORMAT_LIMITS.maxLines.min,
      FORMAT_LIMITS.maxLines.max,
    ]);
  });
  it("every option has a help line, in the command's help and the bot's", () => {
    const rows = optionRows().map(([f]) => f).join("\n");
    for (const s of [...CLI_RUN_LIMITS, ...Object.values(FORMAT_LIMITS)]) {
      assert.ok(rows.includes(`--${s.flag} ${s.valueName}`), s.flag);
    }
    const irc = ircHelpText();
    for (const s of IRC_NUMERIC_SETTINGS) {
      assert.ok(irc.includes(`--${s.flag} ${s.valueName}`) && irc.includes(s.help), s.flag);
    }
  });
});

describe("library limits from the table", () => {
  it("defaults and bounds are the table's", () => {
    for (const [k, s] of Object.entries(RUN_LIMITS)) {
      assert.equal(DEFAULT_LIMITS[k as keyof typeof DEFAULT_LIMITS], s.default, k);
      assert.equal(resolveLimits({ [k]: s.max })[k as keyof typeof DEFAULT_LIMITS], s.max, k);
      assert.throws(
        () => resolveLimits({ [k]: s.max + 1 }),
        (e: Error) => e instanceof LimitError && e.limit === k && e.message === `${k} ${e.detail}`,
      );
    }
    assert.equal(resolveLimits({ fuel: Infinity }).fuel, Infinity);
  });
  it("the options' limits are src/limits' numbers, with the same keys, and agree on which may be unlimited", () => {
    assert.deepEqual(Object.keys(RUN_LIMITS), [...LIMIT_KEYS]);
    for (const k of LIMIT_KEYS) {
      const { default: value, min, max, unlimited } = LIMIT_RANGES[k];
      const s = RUN_LIMITS[k];
      assert.deepEqual(
        [s.default, s.min, s.max, s.kind.unlimited, s.kind.integer],
        [value, min, max, unlimited, true],
        k,
      );
    }
  });
  it("the library and the options agree on every value (isAllowedLimit and isValidValue)", () => {
    const probes = [-1, 0, 0.5, 1, 19, 20, 4096, 4097, 10_000, 2 ** 53, Infinity, -Infinity, NaN];
    for (const k of LIMIT_KEYS) {
      const s = RUN_LIMITS[k];
      for (const v of [...probes, s.min, s.max, s.max + 1, s.min - 1]) {
        assert.equal(isAllowedLimit(k, v), isValidValue(s, v), `${k} ${v}`);
      }
    }
  });
  it("LimitError knows its limit only when told (never parsed from the message)", () => {
    const given = new LimitError("must be at least 8", { limit: "memoryMiB" });
    assert.deepEqual([given.name, given.limit, given.detail, given.message], [
      "LimitError",
      "memoryMiB",
      "must be at least 8",
      "memoryMiB must be at least 8",
    ]);
    const untold = new LimitError("memoryMiB must be at least 8 for this interpreter");
    assert.deepEqual([untold.limit, untold.detail], [undefined, "memoryMiB must be at least 8 for this interpreter"]);
    assert.equal(new LimitError("stdin must be a string").limit, undefined);
  });
});

describe("value parsers", () => {
  const cases: [string, (t: string) => number | undefined, string, number | undefined][] = [
    ["count", parseCount, "1_000_000", 1_000_000],
    ["count", parseCount, "1,000,000", 1_000_000],
    ["count", parseCount, "2e8", 2e8],
    ["count", parseCount, "1.5", undefined],
    ["count", parseCount, "-5", undefined],
    ["count", parseCount, "1e400", undefined],
    ["fuel", parseFuel, "unlimited", Infinity],
    ["fuel", parseFuel, "INF", Infinity],
    ["fuel", parseFuel, "0", 0],
    ["fuel", parseFuel, "abc", undefined],
    ["seconds", parseSecondsToMs, "1.5s", 1500],
    ["seconds", parseSecondsToMs, ".5", 500],
    ["seconds", parseSecondsToMs, "0.001", 1],
    ["seconds", parseSecondsToMs, "1e3", undefined],
    ["seconds", parseSecondsToMs, "-1", undefined],
    ["bytes", parseByteSize, "64KiB", 65_536],
    ["bytes", parseByteSize, "8M", 8 * 1024 * 1024],
    ["bytes", parseByteSize, " 16k ", 16_384],
    ["bytes", parseByteSize, "0", 0],
    ["bytes", parseByteSize, "1G", undefined],
    ["decimal", parseDecimal, "0.5", 0.5],
    ["decimal", parseDecimal, "2", 2],
    ["decimal", parseDecimal, "-1", undefined],
    ["decimal", parseDecimal, "NaN", undefined],
  ];
  for (const [kind, parse, text, want] of cases) {
    it(`${kind}: ${JSON.stringify(text)} → ${want}`, () => assert.equal(parse(text), want));
  }
  it("shows sizes and counts as the help does", () => {
    assert.deepEqual([showByteSize(65_536), showByteSize(8 * 1024 * 1024), showByteSize(400), showByteSize(0)], [
      "64k",
      "8M",
      "400",
      "0",
    ]);
    assert.equal(groupThousands(1_000_000_000), "1,000,000,000");
  });
});
