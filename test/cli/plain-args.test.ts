import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs } from "../../src/cli/args.ts";
import { plainRun } from "../../src/cli/plain-args.ts";
import { CLI_SWITCHES } from "../../src/cli/known.ts";
import { optionRows } from "../../src/cli/help.ts";

describe("plainRun (the invocation parsed without cmd-ts)", () => {
  const plain = ["print(1)", "1+1", "x = 'a b'; print(x)", "a=1", "h", "--", "'-1'", " -1", "💥", "print('--fuel')"];
  for (const code of plain) {
    it(`gives what args.ts gives for ${JSON.stringify(code)}`, async () => {
      const mine = plainRun([code]);
      if (code.startsWith("-")) {
        assert.equal(mine, undefined);
        return;
      }
      assert.deepEqual({ kind: "run", options: mine }, await parseCliArgs([code]));
    });
  }

  const others: string[][] = [[], [""], ["-1"], ["--help"], ["-h"], ["--version"], ["1", "2"], ["--fuel", "1e6", "1"], [
    "--",
    "1",
  ]];
  for (const argv of others) {
    it(`leaves ${JSON.stringify(argv)} to args.ts`, () => {
      assert.equal(plainRun(argv), undefined);
    });
  }
});

describe("the command's switches come from one table (CLI_SWITCHES)", () => {
  for (const s of CLI_SWITCHES) {
    it(`--${s.flag}${s.short ? ` / -${s.short}` : ""}: off by default, on when given, one help row`, async () => {
      assert.equal(plainRun(["1"])![s.key], false);
      for (const f of [`--${s.flag}`, ...(s.short ? [`-${s.short}`] : [])]) {
        const p = await parseCliArgs([f, "1"]);
        assert.ok(p.kind === "run" && p.options[s.key] === true, f);
      }
      const rows = optionRows().filter(([col]) => col.endsWith(`--${s.flag}`));
      assert.deepEqual(rows.map(([, help]) => help), [s.help]);
    });
  }
});
