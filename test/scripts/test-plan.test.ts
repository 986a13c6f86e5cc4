/**
 * `npm test`'s own decisions (scripts/test-plan.mjs): which real peers are missing, whether to
 * install them or stop with one line, reading each runtime's summary and bash's `times`, and the
 * order of the files; as tables of "what is present", so that no package has to be removed from
 * this machine to test a fresh one. Then the runner itself once, with --dry-run and peers it is
 * told to treat as absent: it prints the apt-get commands it would run, or stops with one line.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../../src/sandbox/assets.ts";

type Plan = { action: "none" } | { action: "install"; commands: string[][] } | { action: "stop"; message: string };
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  found: boolean;
}
/** The shape of scripts/test-plan.mjs (plain JavaScript: the runner starts before any build). */
interface TestPlan {
  PEERS: readonly { deb: string; bin: string; why: string }[];
  missingPeers(isPresent: (bin: string) => boolean): string[];
  peerPlan(
    state: { missing: readonly string[]; isRoot: boolean; hasSudo: boolean; hasAptGet: boolean; install: boolean },
  ): Plan;
  listsPlan(
    state: {
      listsKnowPackages: boolean;
      peersInstalled: boolean;
      isRoot: boolean;
      hasSudo: boolean;
      hasAptGet: boolean;
      install: boolean;
    },
  ): string[][];
  parseCounts(runtime: "node" | "deno", output: string): Counts;
  skipNotes(runtime: "node" | "deno", output: string): string[];
  childCpuSeconds(text: string): number | undefined;
  longestFirst(files: readonly string[], lastSeconds: Record<string, number>): string[];
  shellLine(argv: readonly string[]): string;
}

const root = repoRoot();
const plan = await import(pathToFileURL(join(root, "scripts", "test-plan.mjs")).href) as TestPlan;
const IS_DENO = "Deno" in globalThis;

describe("npm test: real peers", () => {
  it("lists the Debian packages the tests start", () => {
    assert.deepEqual(plan.PEERS.map((p) => p.deb), [
      "ngircd",
      "inspircd",
      "atheme-services",
      "openssl",
      "haproxy",
      "python3-pip",
    ]);
  });

  const presence: Array<[string, string[], string[]]> = [
    // Programs are looked for by name: pip3 for python3-pip.
    ["all present", ["ngircd", "inspircd", "atheme-services", "openssl", "haproxy", "pip3"], []],
    ["none present", [], ["ngircd", "inspircd", "atheme-services", "openssl", "haproxy", "python3-pip"]],
    ["only the IRC servers missing", ["openssl", "haproxy", "pip3"], ["ngircd", "inspircd", "atheme-services"]],
    ["only haproxy missing", ["ngircd", "inspircd", "atheme-services", "openssl", "pip3"], ["haproxy"]],
    ["only pip missing", ["ngircd", "inspircd", "atheme-services", "openssl", "haproxy"], ["python3-pip"]],
  ];
  for (const [name, present, missing] of presence) {
    it(`missing peers: ${name}`, () => {
      assert.deepEqual(plan.missingPeers((bin) => present.includes(bin)), missing);
    });
  }

  const base = { missing: ["ngircd", "haproxy"], isRoot: true, hasSudo: false, hasAptGet: true, install: true };
  const update = ["apt-get", "update", "-qq"];
  const install = [
    "env",
    "DEBIAN_FRONTEND=noninteractive",
    "apt-get",
    "install",
    "-y",
    "-qq",
    "--no-install-recommends",
    "ngircd",
    "haproxy",
  ];
  const plans: Array<[string, Partial<typeof base>, Plan | RegExp]> = [
    ["nothing missing: nothing to do", { missing: [] }, { action: "none" }],
    ["nothing missing, not root, no sudo: still nothing", { missing: [], isRoot: false }, { action: "none" }],
    ["root: apt-get", {}, { action: "install", commands: [update, install] }],
    [
      "passwordless sudo: sudo -n apt-get",
      { isRoot: false, hasSudo: true },
      { action: "install", commands: [["sudo", "-n", ...update], ["sudo", "-n", ...install]] },
    ],
    [
      "neither root nor sudo: stop, naming the command",
      { isRoot: false },
      /not root.*`sudo apt-get install .*ngircd haproxy`$/,
    ],
    ["installing not allowed: stop", { install: false }, /WASI_PY_TEST_NO_INSTALL.*ngircd haproxy`$/],
    ["no apt-get: stop, naming the packages", { hasAptGet: false }, /missing ngircd haproxy .*no apt-get/],
  ];
  for (const [name, over, want] of plans) {
    it(`plan: ${name}`, () => {
      const got = plan.peerPlan({ ...base, ...over });
      if (want instanceof RegExp) {
        assert.equal(got.action, "stop");
        const message = (got as { message: string }).message;
        assert.match(message, want);
        assert.ok(!message.includes("\n"), "one line");
      } else {
        assert.deepEqual(got, want);
      }
    });
  }
});

describe("npm test: apt's package lists for the package-image test", () => {
  const base = {
    listsKnowPackages: false,
    peersInstalled: false,
    isRoot: true,
    hasSudo: false,
    hasAptGet: true,
    install: true,
  };
  const rows: Array<[string, Partial<typeof base>, string[][]]> = [
    ["lists never fetched, root: update", {}, [["apt-get", "update", "-qq"]]],
    ["lists never fetched, sudo: update through sudo -n", { isRoot: false, hasSudo: true }, [[
      "sudo",
      "-n",
      "apt-get",
      "update",
      "-qq",
    ]]],
    ["lists know the packages: nothing", { listsKnowPackages: true }, []],
    ["peers being installed (that updates): nothing", { peersInstalled: true }, []],
    ["neither root nor sudo: nothing (the test says why)", { isRoot: false }, []],
    ["WASI_PY_TEST_NO_INSTALL: nothing", { install: false }, []],
    ["no apt-get: nothing", { hasAptGet: false }, []],
  ];
  for (const [name, over, want] of rows) {
    it(name, () => assert.deepEqual(plan.listsPlan({ ...base, ...over }), want));
  }
});

describe("npm test: skipped tests say why", () => {
  const rows: Array<[string, "node" | "deno", string, string[]]> = [
    ["node: reasons", "node", "ok 1 - a\nok 2 - b # SKIP no ngircd here\n    ok 3 - c # SKIP\n", [
      "b: no ngircd here",
      "c",
    ]],
    ["node: none", "node", "ok 1 - a\n# skipped 0\n", []],
    ["deno: ignored, colours removed", "deno", "a ... \x1b[32mok\x1b[0m\nb ... \x1b[33mignored\x1b[0m (0ms)\n", ["b"]],
  ];
  for (const [name, runtime, output, want] of rows) {
    it(name, () => assert.deepEqual(plan.skipNotes(runtime, output), want));
  }
});

describe("npm test: reading results", () => {
  const counts: Array<[string, "node" | "deno", string, Counts]> = [
    [
      "node TAP summary",
      "node",
      "ok 1 - a\n# tests 5\n# suites 1\n# pass 3\n# fail 1\n# cancelled 1\n# skipped 2\n# todo 0\n",
      { passed: 3, failed: 2, skipped: 2, found: true },
    ],
    ["node: crashed before its summary", "node", "Error: Cannot find module\n", {
      passed: 0,
      failed: 0,
      skipped: 0,
      found: false,
    }],
    ["deno ok with steps", "deno", "x ... ok\n\nok | 3 passed (12 steps) | 0 failed (2s)\n", {
      passed: 15,
      failed: 0,
      skipped: 0,
      found: true,
    }],
    [
      "deno failed, with colours and ignored",
      "deno",
      "\x1b[0m\x1b[31mFAILED\x1b[0m | 1 passed (3 steps) | 1 failed (1 step) | 2 ignored (4s)\n",
      { passed: 4, failed: 2, skipped: 2, found: true },
    ],
    ["deno: no summary line", "deno", "error: Module not found\n", { passed: 0, failed: 0, skipped: 0, found: false }],
  ];
  for (const [name, runtime, output, want] of counts) {
    it(`counts: ${name}`, () => assert.deepEqual(plan.parseCounts(runtime, output), want));
  }

  const times: Array<[string, number | undefined]> = [
    ["0m0.010s 0m0.002s\n1m2.500s 0m0.500s\n", 63],
    ["0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n", 0],
    ["", undefined],
    ["0m0.010s 0m0.002s\n", undefined],
  ];
  for (const [text, want] of times) {
    it(`bash times ${JSON.stringify(text)} -> ${want}`, () => {
      const got = plan.childCpuSeconds(text);
      if (want === undefined) assert.equal(got, undefined);
      else assert.ok(Math.abs(got! - want) < 1e-9, `${got}`);
    });
  }

  it("orders files longest first, unknown ones before known ones, ties by name", () => {
    assert.deepEqual(
      plan.longestFirst(["a", "b", "c", "d", "e"], { a: 1, b: 30, d: 30, e: 2 }),
      ["c", "b", "d", "e", "a"],
    );
  });

  it("quotes shell words only where needed", () => {
    assert.equal(plan.shellLine(["apt-get", "install", "a b", "it's", "x=1"]), `apt-get install 'a b' 'it'\\''s' x=1`);
  });
});

describe("npm test: the runner, dry run", () => {
  const node = IS_DENO ? "node" : process.execPath;
  const runner = join(root, "scripts", "test.mjs");
  const run = (env: Record<string, string>) =>
    spawnSync(node, [runner, "--dry-run", "--only", "node", "bench/stats"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  const isRoot = process.getuid?.() === 0;

  it(
    "with peers absent, as root: prints the apt-get commands, then the files",
    { skip: isRoot ? false : "not root" },
    () => {
      const r = run({ WASI_PY_TEST_ABSENT: "ngircd,haproxy" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^npm test: installing the tests' real peers: ngircd haproxy\n$/);
      const lines = r.stdout.split("\n").filter((l) => l.startsWith("would run: "));
      assert.deepEqual(lines.slice(0, 2), [
        "would run: apt-get update -qq",
        "would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ngircd haproxy",
      ]);
      assert.match(lines.at(-1)!, /--test --test-reporter=tap build\/test\/bench\/stats\.test\.js$/);
    },
  );

  it("with installing not allowed: one line naming the command, exit 2", () => {
    const r = run({ WASI_PY_TEST_ABSENT: "inspircd", WASI_PY_TEST_NO_INSTALL: "1" });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      "npm test: missing inspircd (WASI_PY_TEST_NO_INSTALL is set): run `sudo apt-get install -y --no-install-recommends inspircd`\n",
    );
  });
});
