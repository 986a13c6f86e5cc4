/**
 * The command as a Unix tool, end to end on the runtime running the tests (Node: `node
 * build/cli.js`; Deno: `deno run -A cli.ts`): streaming raw output, Ctrl-C, exact bytes, lazy
 * stdin, -c and program arguments, short options with attached values, bad input (code not UTF-8,
 * a full or closed stdout), the cache's fallbacks and the CLI's fuel default. Streaming is tested
 * by reading the first line while the program still blocks on stdin, never by timing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { EXIT } from "../../src/options/exit-codes.ts";
import { cliCommand } from "../helpers/cli-command.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const root = repoRoot();
/** Generous: the machine is shared; a hang is what these bounds catch. */
const LIMIT_MS = 90_000;

interface Ran {
  stdout: Buffer;
  text: string;
  stderr: string;
  status: number | null;
}

/** Our environment with `changes` applied (undefined: removed). */
function envWith(changes: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = { ...process.env as Record<string, string>, NO_COLOR: "1" };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function wasiPy(args: string[], input?: string | Uint8Array, env: Record<string, string | undefined> = {}): Ran {
  const [cmd, argv] = cliCommand(args);
  const r = spawnSync(cmd, argv, {
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: envWith(env),
    timeout: LIMIT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, text: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8"), status: r.status };
}

/** Starts wasi-py with piped stdio; a watchdog kills it after LIMIT_MS (the test then fails). */
function start(
  args: string[],
): { child: ChildProcess; exited: Promise<{ code: number | null; out: string; err: string }> } {
  const [cmd, argv] = cliCommand(args);
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString("utf8")));
  child.stdin!.on("error", () => {}); // EPIPE once the child is gone is expected
  const watchdog = setTimeout(() => child.kill("SIGKILL"), LIMIT_MS);
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    child.on("close", (code) => {
      clearTimeout(watchdog);
      resolve({ code, out, err });
    });
  });
  return { child, exited };
}

/** Writes `chunk` to the child's stdin again and again, honouring back-pressure, until it closes. */
function writeUntilClosed(child: ChildProcess, chunk: Buffer): void {
  let open = true;
  child.stdin!.on("close", () => (open = false));
  const feed = () => {
    while (open && child.stdin!.write(chunk));
    if (open) child.stdin!.once("drain", feed);
  };
  feed();
}

/** Resolves when the child's stdout has shown `text`. */
function seen(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let got = "";
    const on = (d: Buffer) => {
      got += d.toString("utf8");
      if (got.includes(text)) {
        child.stdout!.off("data", on);
        resolve();
      }
    };
    child.stdout!.on("data", on);
  });
}

const BLOCKS = "import sys\nprint('first', flush=True)\ndata = sys.stdin.read()\nprint('second', len(data))";

describe(`streaming and Ctrl-C on ${isDeno ? "Deno" : "Node"}`, () => {
  it("raw output arrives while the program still runs (it blocks on stdin until we answer)", async () => {
    const { child, exited } = start(["-f", "raw", BLOCKS]);
    await seen(child, "first\n");
    child.stdin!.end("abc");
    const r = await exited;
    assert.deepEqual([r.code, r.out, r.err], [0, "first\nsecond 3\n", ""]);
  });
  it("Ctrl-C ends the run, keeps what was printed, exits 130", async () => {
    const { child, exited } = start(["-f", "raw", BLOCKS]);
    await seen(child, "first\n");
    // process.kill, not child.kill: Deno's child.kill reports the signal it sent as the exit cause.
    process.kill(child.pid!, "SIGINT");
    const r = await exited;
    assert.equal(r.code, EXIT.interrupted);
    assert.equal(r.out, "first\n");
    assert.match(r.err, /^wasi-py: interrupted \(Ctrl-C\)\n$/);
  });
  it("raw passes the program's bytes untouched", () => {
    const r = wasiPy(["-f", "raw", 'import sys; _ = sys.stdout.buffer.write(b"\\xff\\xfe ok\\n\\x00")']);
    assert.equal(r.status, 0);
    assert.deepEqual([...r.stdout], [0xff, 0xfe, 0x20, 0x6f, 0x6b, 0x0a, 0x00]);
  });
  it("json still prints once, with the whole output", () => {
    const r = wasiPy(["-fjson", "print(1); print(2)"]);
    const o = JSON.parse(r.text) as { stdout: string };
    assert.equal(o.stdout, "1\n2\n");
  });
});

describe("lazy stdin", () => {
  it("a program that never reads stdin does not wait for it (the pipe stays open)", async () => {
    const { child, exited } = start(["print(1)"]);
    const r = await exited; // stdin is never closed by us: a wait would end only at the watchdog
    child.stdin!.destroy();
    assert.deepEqual([r.code, r.out], [0, "1\n"]);
  });
  it("an endless producer: `yes | wasi-py 'input()'`", async () => {
    const { child, exited } = start(["input()"]);
    writeUntilClosed(child, Buffer.from("y\n".repeat(32 * 1024)));
    const r = await exited;
    assert.deepEqual([r.code, r.out], [0, "'y'\n"]);
  });
  it("the 64 MiB cap counts only what the program reads, and reading past it is an error", async () => {
    const { child, exited } = start(["-fraw", "--fuel=unlimited", "-t60", "import sys\nsys.stdin.buffer.read()"]);
    writeUntilClosed(child, Buffer.alloc(1 << 20, 0x61));
    const r = await exited;
    assert.equal(r.code, 1);
    assert.match(r.err, /OSError: \[Errno 27\] File too large/);
  });
  it("a program blocked on a stdin that never comes ends at --timeout (exit 124)", async () => {
    const { child, exited } = start(["-t1", "input()"]);
    const r = await exited; // we never write nor close its stdin
    child.stdin!.destroy();
    assert.equal(r.code, EXIT.timeout);
    assert.match(r.out, /^Timed out after 1 s\n$/);
  });
  it("stdin given in pieces is read in order", () => {
    const r = wasiPy(["import sys; print([l.strip() for l in sys.stdin])"], "a\nb\nc\n");
    assert.equal(r.text, "['a', 'b', 'c']\n");
  });
});

describe("conventions", () => {
  it("-c CODE ARGS gives the program sys.argv", () => {
    const r = wasiPy(["-c", "import sys; print(sys.argv)", "a", "b c"]);
    assert.deepEqual([r.text, r.status], ["['-c', 'a', 'b c']\n", 0]);
  });
  it("positional code followed by arguments, options among them going to the program", () => {
    const r = wasiPy(["-fraw", "import sys; print(sys.argv)", "-t", "--fuel", ""]);
    assert.deepEqual([r.text, r.status], ["['-c', '-t', '--fuel', '']\n", 0]);
  });
  it("- reads the code from stdin and still takes arguments", () => {
    const r = wasiPy(["-", "x"], "import sys; print(sys.argv)");
    assert.equal(r.text, "['-c', 'x']\n");
  });
  it("short options with attached values: -fjson -t0.5", () => {
    const r = wasiPy(["-fjson", "-t0.5", "--fuel=unlimited", "import time; time.sleep(5)"]);
    assert.equal(r.status, EXIT.timeout);
    assert.equal((JSON.parse(r.text) as { outcome: string }).outcome, "timeout");
  });
  it("did you mean, for a misspelt long option", () => {
    const r = wasiPy(["--timout", "1", "1"]);
    assert.equal(r.status, EXIT.usage);
    assert.match(r.stderr, /^wasi-py: unknown option --timout \(did you mean --timeout\?\)[^\n]*\n$/);
  });
  for (
    const args of [["--batch", "--version"], ["--irc", "--version"], ["-fraw", "--version"], ["--bogus", "--version"]]
  ) {
    it(`--version works in every mode: ${args.join(" ")}`, () => {
      const r = wasiPy(args);
      assert.equal(r.status, 0);
      assert.match(r.text, /^wasi-py \S+\nCPython 3\.13/);
    });
  }
  for (const args of [["--batch", "--help"], ["-fjson", "-h"], ["--fule", "--help"]]) {
    it(`--help works in every mode: ${args.join(" ")}`, () => {
      const r = wasiPy(args);
      assert.equal(r.status, 0);
      assert.match(r.text, /^wasi-py - run a small Python program/);
      assert.match(r.text, /WASI_PY_CACHE/);
    });
  }
  it("the CLI's fuel default fits local work beyond the bot's 1e9", () => {
    const r = wasiPy(["-t120", "sum(range(2*10**6))"]);
    assert.deepEqual([r.text, r.status], ["1999999000000\n", 0]);
  });
});

describe("bad input: one line and a documented exit status", () => {
  const hasProc = existsSync("/proc/self/cmdline");
  it("code that is not valid UTF-8: exit 2", { skip: hasProc ? false : "no /proc/self/cmdline on this OS" }, () => {
    // The shell builds the argument from raw bytes (spawn would encode a JS string as UTF-8).
    const [cmd, argv] = cliCommand([]);
    const r = spawnSync("sh", ["-c", `exec "$@" "$(printf 'print("caf\\351")')"`, "sh", cmd, ...argv], {
      encoding: "utf8",
      timeout: LIMIT_MS,
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(r.status, EXIT.usage, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^wasi-py: the code is not valid UTF-8[^\n]*\n$/);
  });
  it("Deno without --allow-all (no /proc/self/cmdline): a U+FFFD in the code is refused, \\ufffd works", {
    skip: isDeno && hasProc ? false : "only Deno restricts reading /proc/self/cmdline",
  }, () => {
    const perms = ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-sys=homedir,cpus"];
    const run = (code: string) =>
      spawnSync(process.execPath, [...perms, join(root, "cli.ts"), code], {
        encoding: "utf8",
        timeout: LIMIT_MS,
        env: envWith({}),
      });
    const bad = run('print("caf\uFFFD")');
    assert.equal(bad.status, EXIT.usage);
    assert.match(bad.stderr, /^wasi-py: the code contains U\+FFFD: not valid UTF-8\?[^\n]*\n$/);
    const good = run('print("caf\\ufffd")');
    assert.deepEqual([good.stdout, good.status], ["caf\uFFFD\n", 0]);
  });
  it("a real U+FFFD in the code is fine", () => {
    const r = wasiPy(["-fraw", 'print("\uFFFD")']);
    assert.deepEqual([r.text, r.status], ["\uFFFD\n", 0]);
  });
  it("a full disk on our stdout (> /dev/full): one line, exit 120", {
    skip: existsSync("/dev/full") ? false : "no /dev/full",
  }, () => {
    const [cmd, argv] = cliCommand(["-f", "raw", "print(1)"]);
    const full = openSync("/dev/full", "w");
    try {
      const r = spawnSync(cmd, argv, {
        stdio: ["ignore", full, "pipe"],
        encoding: "utf8",
        timeout: LIMIT_MS,
        env: { ...process.env, NO_COLOR: "1" },
      });
      assert.equal(r.status, EXIT.internal);
      assert.match(r.stderr, /^wasi-py: cannot write to stdout: no space left on device \(ENOSPC\)\n$/);
    } finally {
      closeSync(full);
    }
  });
  it("a reader that goes away (| head -1): the run stops, silently, exit 141", () => {
    // (--max-output far away: past the cap nothing more is written, so nothing could fail)
    const [cmd, argv] = cliCommand([
      "-fraw",
      "--fuel=unlimited",
      "-t60",
      "--max-output=64M",
      "while True: print('y' * 100)",
    ]);
    const r = spawnSync("bash", ["-c", '"$@" | head -1 >/dev/null; echo "${PIPESTATUS[0]}"', "bash", cmd, ...argv], {
      encoding: "utf8",
      timeout: LIMIT_MS,
      env: envWith({}),
    });
    assert.deepEqual([r.stdout, r.stderr], [`${EXIT.brokenPipe}\n`, ""]);
  });
});

function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("the cache never stops it", () => {
  // The temp-dir fallback goes to a folder of this suite's, removed afterwards.
  let tmp = "";
  const clean: Record<string, string | undefined> = { WASI_PY_CACHE: undefined, XDG_CACHE_HOME: undefined };
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "wasi-py-tmpdir-"));
    clean.TMPDIR = tmp;
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  it("HOME on an odd filesystem (/proc/self/x): runs, no hang", () => {
    const r = wasiPy(["1+1"], undefined, { ...clean, HOME: "/proc/self/x" });
    assert.deepEqual([r.text, r.status], ["2\n", 0]);
  });
  it("an empty HOME: nothing is written into the current folder", () => {
    const cwd = mkdtempSync(join(tmpdir(), "wasi-py-cwd-"));
    try {
      const [cmd, argv] = cliCommand(["1+1"]);
      const r = spawnSync(cmd, argv, {
        cwd,
        encoding: "utf8",
        timeout: LIMIT_MS,
        env: envWith({ ...clean, HOME: "" }),
      });
      assert.deepEqual([r.stdout, r.status], ["2\n", 0]);
      assert.deepEqual(readdirSync(cwd), []);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
  it("no usable folder at all: expanded in memory", () => {
    const r = wasiPy(["1+1"], undefined, {
      WASI_PY_CACHE: "/dev/null/a",
      XDG_CACHE_HOME: "/dev/null/b",
      HOME: "/proc/self/x", // (Deno itself refuses to start with HOME=/dev/null)
      TMPDIR: "/dev/null/c",
    });
    assert.deepEqual([r.text, r.status], ["2\n", 0]);
  });
  it("a corrupt or truncated entry is detected and expanded again; concurrent expansions agree", async () => {
    const cache = mkdtempSync(join(tmpdir(), "wasi-py-cache-"));
    try {
      // Two processes expanding into an empty cache at once.
      const both = await Promise.all([0, 1].map(() => {
        const [cmd, argv] = cliCommand(["print(6*7)"]);
        return new Promise<string>((resolve) => {
          const c = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"], env: envWith({ WASI_PY_CACHE: cache }) });
          let out = "";
          c.stdout!.on("data", (d: Buffer) => (out += d.toString()));
          c.on("close", (code) => resolve(`${code} ${out}`));
        });
      }));
      assert.deepEqual(both, ["0 42\n", "0 42\n"]);
      const dir = readdirSync(cache).find((d) => existsSync(join(cache, d, "python.wasm")))!;
      const wasm = join(cache, dir, "python.wasm");
      const good = sha(wasm);
      assert.equal(good, dir, "entries are named by their sha256");
      const bytes = readFileSync(wasm);
      bytes[5000] ^= 0xff; // same size, one byte changed
      writeFileSync(wasm, bytes);
      assert.deepEqual([wasiPy(["1+1"], undefined, { WASI_PY_CACHE: cache }).text], ["2\n"]);
      assert.equal(sha(wasm), good);
      writeFileSync(wasm, bytes.subarray(0, 1000)); // truncated
      assert.deepEqual([wasiPy(["1+1"], undefined, { WASI_PY_CACHE: cache }).text], ["2\n"]);
      assert.equal(sha(wasm), good);
      assert.deepEqual(
        readdirSync(join(cache, dir)).sort(),
        ["python.wasm", "python.wasm.verified"],
        "no temporary file left behind",
      );
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
