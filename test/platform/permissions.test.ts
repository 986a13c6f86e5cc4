/**
 * The Deno permission check of the command (src/platform/permissions.ts): the needs per command
 * line, the one-line message, the cache folder agreeing with the sandbox's own, and end to end on
 * Deno: a missing permission is one line and exit 120, never a NotCapable trace, and the
 * documented narrow set is enough to run a program (from Node too when Deno's half of npm test
 * does not run).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { SpawnSyncOptionsWithStringEncoding } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { cacheDirFor, commandNeeds, packageRoot, permissionMessage } from "../../src/platform/permissions.ts";
import { optionPart } from "../../src/cli/argv.ts";
import { KNOWN_OPTIONS } from "../../src/cli/known.ts";
import { repoRoot } from "../../src/sandbox/assets.ts";
import { cacheDirs } from "../../src/platform/cache-dirs.ts";
import { otherHalfRuns } from "../helpers/halves.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const root = repoRoot();

describe("commandNeeds", () => {
  const base = ["--allow-env", "--allow-read=/p"];
  const cached = [...base, "--allow-read=/c", "--allow-write=/c"];
  const cases: Array<[string, string[], string | undefined, string[]]> = [
    ["a run", ["1+1"], "/c", cached],
    ["no cache configured (temp dir or memory)", ["1+1"], undefined, base],
    ["the bot with a server", ["--irc", "--server", "h:6697"], "/c", [...cached, "--allow-net=h:6697"]],
    ["--server=", ["--irc", "--server=h"], "/c", [...cached, "--allow-net=h"]],
    ["the bot, server from a config file", ["--irc", "--config", "f.json"], "/c", cached],
    ["--server after -- is code", ["--", "--irc", "--server", "h"], "/c", cached],
    ["--irc --server after the code are the program's", ["print(1)", "--irc", "--server", "h"], "/c", cached],
    ["... also after options", ["-t", "1", "CODE", "--irc", "--server=h"], "/c", cached],
    ["... and after -c CODE", ["-c", "1", "--irc", "--server", "h"], "/c", cached],
    ["the bot's own options before --server", ["--irc", "--nick", "py", "--server", "h"], "/c", [
      ...cached,
      "--allow-net=h",
    ]],
    ["the service's default address", ["--serve"], "/c", [...cached, "--allow-net=127.0.0.1:8060"]],
    ["the service's --listen", ["--serve", "--listen=0.0.0.0:9000"], "/c", [...cached, "--allow-net=0.0.0.0:9000"]],
    ["a run through a service", ["--server", "http://h:8060", "1"], "/c", [...cached, "--allow-net=h:8060"]],
    ["a program's --serve", ["1", "--serve", "--listen=0.0.0.0:9000"], "/c", cached],
    ["a program's --server URL", ["1", "--server", "http://h:8060"], "/c", cached],
  ];
  // As cli.ts calls it: with our options only, the arguments before the code.
  for (const [name, argv, cache, flags] of cases) {
    it(
      name,
      () => assert.deepEqual(commandNeeds(optionPart(argv, KNOWN_OPTIONS), "/p", cache).map((n) => n.flag), flags),
    );
  }
});

describe("permissionMessage", () => {
  const all = commandNeeds(["1+1"], "/p", "/c");
  it("says nothing when nothing is missing", () => assert.equal(permissionMessage([], all), undefined));
  it("names the missing flags, then the whole set joined the way Deno takes it", () => {
    assert.equal(
      permissionMessage(all.filter((n) => n.descriptor.name === "read"), all),
      "wasi-py: Deno permissions missing: --allow-read=/p,/c (the command needs: " +
        "--allow-env --allow-read=/p,/c --allow-write=/c)",
    );
  });
  it("is one line", () => assert.doesNotMatch(permissionMessage(all, all) ?? "", /\n/));
});

describe("cacheDirFor", () => {
  const table: Array<[Record<string, string>, string | undefined]> = [
    [{ WASI_PY_CACHE: "/x" }, "/x"],
    [{ WASI_PY_CACHE: "/x", XDG_CACHE_HOME: "/y" }, "/x"],
    [{ WASI_PY_CACHE: "relative", XDG_CACHE_HOME: "/y" }, join("/y", "wasi-py")],
    [{ XDG_CACHE_HOME: "/y", HOME: "/h" }, join("/y", "wasi-py")],
    [{ HOME: "/h" }, join("/h", ".cache", "wasi-py")],
    [{}, undefined],
  ];
  for (const [env, want] of table) {
    it(JSON.stringify(env), () => assert.equal(cacheDirFor((n) => env[n]), want));
  }
  it("agrees with platform/cache-dirs.ts's cacheDirs", () => {
    const env = (n: string) => (process.env[n] === "" ? undefined : process.env[n]);
    assert.equal(cacheDirFor(env), cacheDirs()[0]);
  });
});

describe("packageRoot", () => {
  it("from the sources and from the build", () => {
    assert.equal(packageRoot("file:///p/src/platform/permissions.ts"), "/p");
    assert.equal(packageRoot("file:///p/build/src/platform/permissions.js"), "/p");
  });
  it("is the repository root here", () => {
    const own = join(root, "src", "platform", "permissions.ts");
    assert.equal(packageRoot(`file://${own}`), root);
  });
});

/** The deno binary: this one on Deno, the npm package's on Node (a dev dependency). */
function denoBinary(): string | undefined {
  if (isDeno) return process.execPath;
  const bin = join(root, "node_modules", "deno", "bin.cjs");
  return existsSync(bin) ? bin : undefined;
}

describe("on Deno, end to end", () => {
  const deno = denoBinary();
  const skip = deno === undefined
    ? "the deno dev dependency is not installed (npm install)"
    : !isDeno && otherHalfRuns()
    ? "npm test's Deno half runs these (test/helpers/halves.ts)"
    : false;
  if (skip) process.stdout.write(`# skip: ${skip}\n`);
  const cache = mkdtempSync(join(tmpdir(), "wasi-py-perm-"));
  const run = (flags: string[], command = ["print(6*7)"]) => {
    const args = ["run", ...flags, join(root, "cli.ts"), ...command];
    const env = { ...process.env, WASI_PY_CACHE: cache, NO_COLOR: "1" };
    const options: SpawnSyncOptionsWithStringEncoding = {
      encoding: "utf8",
      env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    };
    if (!isDeno) return spawnSync(process.execPath, [deno!, ...args], options);
    // Deno rewrites a spawn that looks like `deno run …` into `deno run -A …`; the arguments go
    // through the environment to a shell so that the child gets exactly these flags.
    const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    return spawnSync("sh", ["-c", `exec "$WASI_PY_TEST_DENO" ${quoted}`], {
      ...options,
      env: { ...env, WASI_PY_TEST_DENO: deno! },
    });
  };

  it("no permissions: one line naming the flags, exit 120", { skip }, () => {
    const r = run([]);
    assert.equal(r.status, 120, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^wasi-py: Deno permissions missing: --allow-env --allow-read=\S+ \(the command needs: .*\)\n$/,
    );
    assert.doesNotMatch(r.stderr, /NotCapable|\n./);
  });

  it("no write access to the cache: named, exit 120", { skip }, () => {
    const r = run(["--allow-env", `--allow-read=${root},${cache}`]);
    assert.equal(r.status, 120, r.stderr);
    assert.equal(
      r.stderr,
      `wasi-py: Deno permission missing: --allow-write=${cache} ` +
        `(the command needs: --allow-env --allow-read=${root},${cache} --allow-write=${cache})\n`,
    );
  });

  it("the documented narrow set runs a program", { skip }, () => {
    const r = run(["--allow-env", `--allow-read=${root},${cache}`, `--allow-write=${cache}`]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "42\n");
    assert.equal(r.status, 0);
  });

  it("a program's own --irc --server asks for no network", { skip }, () => {
    const narrow = ["--allow-env", `--allow-read=${root},${cache}`, `--allow-write=${cache}`];
    const r = run(narrow, ["import sys; print(sys.argv[1:])", "--irc", "--server", "h:6667"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "['--irc', '--server', 'h:6667']\n");
    assert.equal(r.status, 0);
    rmSync(cache, { recursive: true, force: true });
  });
});
