/**
 * bench/line-child.ts: a child answers one JSON line per request line, in order; a child that
 * dies rejects the pending request and every later one with its exit and stderr. The child is the
 * machine's python3 (a plain process on Node and Deno alike).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { lineChild } from "../../bench/line-child.ts";

const ECHO = `
import json, sys
for line in sys.stdin:
    line = line.rstrip("\\n")
    if line == "die":
        sys.stderr.write("asked to die\\n"); sys.exit(3)
    print(json.dumps({"got": line, "n": len(line)}), flush=True)
`;

describe("lineChild", () => {
  const noPython = spawnSync("python3", ["-c", "pass"]).status !== 0;
  it("answers each request with its own line, in order, and closes when stdin ends", async (t) => {
    if (noPython) return t.skip("no python3 on PATH to act as the child");
    const c = lineChild<{ got: string; n: number }>("python3", ["-c", ECHO], process.cwd());
    const answers = await Promise.all(["a", "bcd", ""].map((l) => c.ask(l)));
    assert.deepEqual(answers, [{ got: "a", n: 1 }, { got: "bcd", n: 3 }, { got: "", n: 0 }]);
    await c.close();
  });

  it("a child that exits rejects the pending request and later ones with its exit code and stderr", async (t) => {
    if (noPython) return t.skip("no python3 on PATH to act as the child");
    const c = lineChild<unknown>("python3", ["-c", ECHO], process.cwd());
    assert.deepEqual(await c.ask("x"), { got: "x", n: 1 });
    await assert.rejects(c.ask("die"), /exit 3: asked to die/);
    await assert.rejects(c.ask("again"), /exit 3/);
    await c.close();
  });
});
