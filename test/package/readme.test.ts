/**
 * The README's figures against what they describe (issue 26, item 9): the --memory range against
 * the bundled interpreter's real floor and the command's validation, the asset cache's size
 * against the manifest, and `memoryBytes` present or absent as the README says. The tarball's
 * size and file count are checked where the tarball is made (consumer.test.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BUNDLED_MEMORY_MIN_MIB, CLI_MEMORY_LIMIT, RUN_LIMITS } from "../../src/options/limits.ts";
import { helpLine } from "../../src/options/spec.ts";
import { readAsset, readManifest, repoRoot } from "../../src/sandbox/assets.ts";
import { ExternKind, readImportSection, readSections, SectionId } from "../../src/wasm/binary.ts";
import { Sandbox } from "../../src/sandbox/mod.ts";
import { LimitError } from "../../src/limits/mod.ts";

const readme = readFileSync(join(repoRoot(), "README.md"), "utf8");
const MIB_PAGES = 16; // 64-KiB wasm pages in a MiB

describe("README figures", () => {
  // One sandbox for the file: the interpreter is compiled once.
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ workers: 1 });
  });
  after(() => sb.close());

  it("--memory: the bundled interpreter's floor is BUNDLED_MEMORY_MIN_MIB, and help and README say that range", () => {
    const wasm = readAsset("python.wasm");
    const section = readSections(wasm).find((s) => s.id === SectionId.Import)!;
    const memory = readImportSection(wasm, section).find((e) => e.kind === ExternKind.Memory)!;
    assert.equal(BUNDLED_MEMORY_MIN_MIB, Math.ceil(memory.limits!.min / MIB_PAGES));
    const range = `${BUNDLED_MEMORY_MIN_MIB}–${RUN_LIMITS.memoryMiB.max}`;
    assert.match(readme, new RegExp(`\\| \`-m, --memory MiB\` +\\| 256 +\\| [^|\\n]*\\(${range}\\b`));
    assert.match(helpLine(CLI_MEMORY_LIMIT), new RegExp(`; ${BUNDLED_MEMORY_MIN_MIB}-${RUN_LIMITS.memoryMiB.max}\\)$`));
  });

  it("the library's memoryMiB error quoted in the README is the one it throws", async () => {
    const quoted = /e\.g\. "(memoryMiB must be [^"]+)"/.exec(readme);
    assert.ok(quoted !== null, "README: no quoted memoryMiB error");
    await assert.rejects(sb.run("1", { memoryMiB: 0 }), (e: unknown) => {
      assert.ok(e instanceof LimitError);
      assert.equal(e.message, quoted[1]);
      return true;
    });
  });

  it("the asset cache's size: the expanded interpreter and stdlib image", () => {
    const files = readManifest().files;
    const mb = (name: string) => files[`${name}.br`]!.expanded!.size / 1e6;
    const total = Math.round(mb("python.wasm") + mb("stdlib.tar"));
    const said = new RegExp(
      `\\(about ${total} MB: the interpreter ${mb("python.wasm").toFixed(1)} MB, the stdlib image ${
        mb("stdlib.tar").toFixed(1)
      } MB\\)`,
    );
    assert.match(readme.replace(/\s+/g, " "), said);
  });

  it("memoryBytes: absent after a timeout or an abort, present when the program ended or ran out of fuel", {
    timeout: 300_000,
  }, async () => {
    assert.match(
      readme.replace(/\s+/g, " "),
      /`memoryBytes` \(peak guest memory; absent when the run was stopped from outside: `timeout`, an abort, a lost worker\)/,
    );
    // Programs that cannot finish: the limit under test is the only way out.
    const timedOut = await sb.run("while True: pass", { timeoutMs: 200, fuel: Infinity });
    assert.equal(timedOut.outcome, "timeout");
    assert.equal(timedOut.memoryBytes, undefined);
    const controller = new AbortController();
    const aborted = sb.run("while True: pass", { fuel: Infinity, timeoutMs: 600_000, signal: controller.signal });
    controller.abort();
    assert.equal((await aborted).memoryBytes, undefined);
    const fuel = await sb.run("while True: pass", { fuel: 1_000_000, timeoutMs: 600_000 });
    assert.equal(fuel.outcome, "fuel_exhausted");
    assert.ok(fuel.memoryBytes! >= BUNDLED_MEMORY_MIN_MIB * 2 ** 20 - 2 ** 20);
    const ok = await sb.run("print(1)", { timeoutMs: 600_000 });
    assert.equal(ok.outcome, "ok");
    assert.ok(ok.memoryBytes! > 0);
  });
});
