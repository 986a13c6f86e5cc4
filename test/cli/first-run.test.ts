/**
 * The first-run notice (src/cli/first-run.ts): on a terminal, a run on an empty asset cache says
 * once on stderr that the interpreter is being prepared; not on later runs, not when stderr is
 * not a terminal. The decision as a table, the cache probe against files of the manifest's size,
 * then the command itself in a pseudo-terminal (script(1)) with a fresh cache.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { firstRunNotice } from "../../src/cli/first-run.ts";
import type { FirstRunState } from "../../src/cli/first-run.ts";
import { assetsLookExpanded, readManifest } from "../../src/sandbox/assets.ts";
import type { AssetName } from "../../src/sandbox/assets.ts";
import { cliCommand } from "../helpers/cli-command.ts";

const NOTICE = "wasi-py: first run: preparing the interpreter in /c (once, a few seconds)\n";

describe("first-run notice", () => {
  const table: Array<[Omit<FirstRunState, "cacheDir">, string | undefined]> = [
    [{ stderrIsTerminal: true, expanded: false }, NOTICE],
    [{ stderrIsTerminal: true, expanded: true }, undefined],
    [{ stderrIsTerminal: false, expanded: false }, undefined],
    [{ stderrIsTerminal: false, expanded: true }, undefined],
  ];
  for (const [state, want] of table) {
    it(`terminal ${state.stderrIsTerminal}, expanded ${state.expanded}: ${want === undefined ? "silent" : "says it"}`, () => {
      assert.equal(firstRunNotice({ ...state, cacheDir: "/c" }), want);
    });
  }

  it("the cache probe: files of the manifest's size in <cache>/<sha256>/<name>", () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-first-"));
    try {
      const names: AssetName[] = ["python.wasm", "stdlib.tar"];
      const place = (name: AssetName, size: number) => {
        const { sha256 } = readManifest().files[`${name}.br`]!.expanded!;
        mkdirSync(join(cache, sha256), { recursive: true });
        const fd = openSync(join(cache, sha256, name), "w");
        ftruncateSync(fd, size); // sparse: the probe looks at sizes, not bytes
        closeSync(fd);
      };
      const size = (name: AssetName) => readManifest().files[`${name}.br`]!.expanded!.size;
      assert.equal(assetsLookExpanded(names, { cacheDir: cache }), false, "empty");
      place("python.wasm", size("python.wasm"));
      assert.equal(assetsLookExpanded(names, { cacheDir: cache }), false, "one of two");
      place("stdlib.tar", size("stdlib.tar") - 1);
      assert.equal(assetsLookExpanded(names, { cacheDir: cache }), false, "one short");
      place("stdlib.tar", size("stdlib.tar"));
      assert.equal(assetsLookExpanded(names, { cacheDir: cache }), true, "both");
      assert.equal(
        assetsLookExpanded(names, { cacheDir: cache, assetsDir: join(cache, "none") }),
        false,
        "no manifest",
      );
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe("first-run notice, end to end", () => {
  const hasScript = spawnSync("sh", ["-c", "command -v script"]).status === 0;
  const skip = hasScript ? false : "script(1) is not installed (util-linux)";
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  /** `wasi-py print(6*7)` with stdout and stderr on a pseudo-terminal (or stderr into `stderrFile`). */
  const inTerminal = (cache: string, stderrFile?: string) => {
    const [cmd, argv] = cliCommand(["print(6*7)"]);
    const line = [cmd, ...argv].map(quote).join(" ") + (stderrFile === undefined ? "" : ` 2>${quote(stderrFile)}`);
    return spawnSync("script", ["-qec", line, "/dev/null"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WASI_PY_CACHE: cache, NO_COLOR: "1" },
      timeout: 120_000,
    });
  };

  it("once on a terminal, then never; never when stderr is a file", { skip }, () => {
    const work = mkdtempSync(join(tmpdir(), "wasi-py-first-"));
    try {
      const cache = join(work, "cache");
      const first = inTerminal(cache);
      assert.equal(first.status, 0, first.stdout);
      const said = `wasi-py: first run: preparing the interpreter in ${cache} (once, a few seconds)`;
      assert.equal(first.stdout.replaceAll("\r", ""), `${said}\n42\n`);
      const second = inTerminal(cache);
      assert.equal(second.status, 0, second.stdout);
      assert.equal(second.stdout.replaceAll("\r", ""), "42\n");
      // A fresh cache, stderr into a file: nothing there, and nothing on the terminal but the answer.
      const other = join(work, "other");
      const errFile = join(work, "stderr.txt");
      writeFileSync(errFile, "");
      const piped = inTerminal(other, errFile);
      assert.equal(piped.status, 0, piped.stdout);
      assert.equal(piped.stdout.replaceAll("\r", ""), "42\n");
      assert.equal(readFileSync(errFile, "utf8"), "");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
