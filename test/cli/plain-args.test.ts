import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCliArgs } from "../../src/cli/args.ts";
import { plainRun } from "../../src/cli/plain-args.ts";

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
