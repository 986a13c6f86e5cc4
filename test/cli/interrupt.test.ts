/**
 * Ctrl-C before the run starts (issue 26, item 9): the command prints exactly the one result a
 * run stopped at once would (the JSON line with -fjson, the status line in irc format, the note in
 * raw format) and exits 130. The command is held at that point by its test hook
 * (WASI_PY_TEST_HOLD_FILE: it writes the file when ready, then waits for the signal), so the
 * signal is sent after the file appears, never on a guess of the clock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { EXIT } from "../../src/options/exit-codes.ts";
import { cliCommand } from "../helpers/cli-command.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";

interface Ended {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wasi-py args`, sends SIGINT once it is held before its run, and returns how it ended. */
function interruptBeforeStart(args: string[]): Promise<Ended> {
  const dir = mkdtempSync(join(tmpdir(), "wasi-py-hold-"));
  const hold = join(dir, "ready");
  const [cmd, argv] = cliCommand(args);
  const child = spawn(cmd, argv, {
    env: { ...process.env, WASI_PY_TEST_HOLD_FILE: hold, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const poll = setInterval(() => {
    if (existsSync(hold)) {
      clearInterval(poll);
      process.kill(child.pid!, "SIGINT"); // not child.kill: Deno's reports the signal it sent as the exit cause
    }
  }, 20);
  return new Promise((resolve) => {
    child.on("close", (status) => {
      clearInterval(poll);
      rmSync(dir, { recursive: true, force: true });
      resolve({ status, stdout, stderr });
    });
  });
}

describe("Ctrl-C before the run starts", () => {
  it("-fjson: the one JSON line, exit 130", { timeout: 120_000 }, async () => {
    const r = await interruptBeforeStart(["-fjson", "print(1)"]);
    assert.equal(r.status, EXIT.interrupted, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.split("\n").length, 2, r.stdout);
    const result = JSON.parse(r.stdout);
    assert.deepEqual([result.outcome, result.exitCode, result.stdout, result.fuelUsed], ["aborted", 130, "", 0]);
    assert.equal(result.fuelUsedIsLowerBound, false, "nothing ran: 0 is exact");
  });

  it("irc format: one status line (as a run aborted at once), exit 130", { timeout: 120_000 }, async () => {
    const r = await interruptBeforeStart(["print(1)"]);
    assert.equal(r.status, EXIT.interrupted, r.stderr);
    assert.equal(r.stdout + r.stderr, "Interrupted\n");
  });

  it("raw format: nothing on stdout, the one note on stderr, exit 130", { timeout: 120_000 }, async () => {
    const r = await interruptBeforeStart(["-fraw", "print(1)"]);
    assert.equal(r.status, EXIT.interrupted);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "wasi-py: interrupted (Ctrl-C)\n");
  });
});

describe("Ctrl-C while the command loads (noteEarlyInterrupts, called first thing by cli.ts)", () => {
  it("is noted, not fatal, and handed to the handler installed later", { timeout: 60_000 }, () => {
    const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
    const module = isDeno
      ? join(repoRoot(), "src", "platform", "process.ts")
      : join(repoRoot(), "build", "src", "platform", "process.js");
    // A second plain listener shows when the signal has arrived (both listeners get it), so the
    // probe installs the handler after the Ctrl-C without guessing a delay.
    const probe = `
      import process from "node:process";
      const { noteEarlyInterrupts, onInterrupt } = await import(${JSON.stringify(pathToFileURL(module).href)});
      noteEarlyInterrupts();
      const keepAlive = setInterval(() => {}, 1000); // signal listeners alone do not keep the process up
      await new Promise((arrived) => {
        const seen = () => { process.off("SIGINT", seen); arrived(); };
        process.on("SIGINT", seen);
        process.kill(process.pid, "SIGINT");
      });
      onInterrupt(() => { process.stdout.write("handled\\n"); clearInterval(keepAlive); process.exit(0); });
    `;
    const argv = isDeno ? ["eval", probe] : ["--input-type=module", "-e", probe];
    const r = spawnSync(process.execPath, argv, { encoding: "utf8", timeout: 30_000 });
    assert.deepEqual([r.status, r.stdout], [0, "handled\n"], r.stderr);
  });
});
