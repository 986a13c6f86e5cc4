// The library parts a service needs (issue 22): files in and out of the writable home, the bounded
// queue and its two rejections, and the aborted outcome.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { LimitError, QueueFullError, QueueTimeoutError, Sandbox } from "../../src/sandbox/mod.ts";
import { checkFiles, returnCaps } from "../../src/sandbox/run-files.ts";
import { queueBounds } from "../../src/sandbox/queue.ts";
import { DEFAULT_LIMITS } from "../../src/limits/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

const GENEROUS = { fuel: Infinity, timeoutMs: 120_000 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("checkFiles", () => {
  const limits = { tmpQuotaBytes: 10, tmpMaxFiles: 3 };
  const good: [string, unknown, string[]][] = [
    ["none", undefined, []],
    ["a file", [{ path: "a.txt", content: "hi" }], ["a.txt"]],
    ["a file in a folder", [{ path: "d/a", content: new Uint8Array(2) }], ["d/a"]],
    ["two in one folder", [{ path: "d/a", content: "" }, { path: "d/b", content: "" }], ["d/a", "d/b"]],
  ];
  for (const [name, files, paths] of good) {
    it(`accepts ${name}`, () => assert.deepEqual(checkFiles(files, limits).map((f) => f.path), paths));
  }
  const bad: [string, unknown, RegExp][] = [
    ["not an array", { path: "a" }, /array/],
    ["an absolute path", [{ path: "/etc/x", content: "" }], /relative/],
    ["a .. part", [{ path: "a/../../x", content: "" }], /"\.\."/],
    ["a . part", [{ path: "./x", content: "" }], /"\."/],
    ["an empty part", [{ path: "a//b", content: "" }], /empty/],
    ["a trailing slash", [{ path: "a/", content: "" }], /empty/],
    ["an empty path", [{ path: "", content: "" }], /non-empty/],
    ["NUL", [{ path: "a\0b", content: "" }], /NUL/],
    ["a long name", [{ path: "x".repeat(256), content: "" }], /longer than 255/],
    ["twice", [{ path: "a", content: "" }, { path: "a", content: "" }], /twice/],
    ["file then folder", [{ path: "a", content: "" }, { path: "a/b", content: "" }], /through a file/],
    ["folder then file", [{ path: "a/b", content: "" }, { path: "a", content: "" }], /also a folder/],
    ["a number as content", [{ path: "a", content: 5 }], /content/],
    ["too many entries", [{ path: "a/b/c/d", content: "" }], /tmpMaxFiles/],
    ["too many bytes", [{ path: "a", content: "12345678901" }], /tmpQuotaBytes/],
  ];
  // A value of the wrong type is a TypeError; one of the right type that is not allowed, a LimitError.
  const wrongType = new Set(["not an array", "a number as content"]);
  for (const [name, files, message] of bad) {
    it(`refuses ${name}`, () => {
      const kind = wrongType.has(name) ? TypeError : LimitError;
      assert.throws(() => checkFiles(files, limits), (e: Error) => e instanceof kind && message.test(e.message));
    });
  }
});

describe("returnCaps and queueBounds", () => {
  it("returnCaps: off, defaults, given, bad", () => {
    assert.equal(returnCaps(undefined, DEFAULT_LIMITS), undefined);
    assert.equal(returnCaps(false, DEFAULT_LIMITS), undefined);
    assert.deepEqual(returnCaps(true, DEFAULT_LIMITS), { maxFiles: 100, maxBytes: DEFAULT_LIMITS.tmpQuotaBytes });
    assert.deepEqual(returnCaps({ maxFiles: 2 }, DEFAULT_LIMITS), { maxFiles: 2, maxBytes: 8 * 1024 * 1024 });
    assert.throws(() => returnCaps({ maxBytes: -1 }, DEFAULT_LIMITS), LimitError);
  });
  it("queueBounds: defaults unbounded, checked", () => {
    assert.deepEqual(queueBounds({}), { maxQueue: Infinity, queueTimeoutMs: Infinity });
    assert.deepEqual(queueBounds({ maxQueue: 0, queueTimeoutMs: 5 }), { maxQueue: 0, queueTimeoutMs: 5 });
    assert.throws(() => queueBounds({ maxQueue: -1 }), /maxQueue must be an integer/);
    assert.throws(() => queueBounds({ queueTimeoutMs: 0 }), /queueTimeoutMs must be an integer/);
    assert.throws(() => queueBounds({ maxQueue: 1.5 }), LimitError);
  });
});

describe("files and the home folder", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1 });
  });
  after(async () => {
    await sb.close();
  });

  it("programs start in a writable /home, HOME set, where open('out.txt', 'w') works", async () => {
    const r = await sb.run(
      "import os\nopen('out.txt', 'w').write('x')\nprint(os.getcwd(), os.environ['HOME'], os.path.expanduser('~'), os.listdir())",
      GENEROUS,
    );
    assert.equal(r.stdout, "/home /home /home ['out.txt']\n", r.stderr);
  });

  it("sys.path[0] is '' as under python3 -c: a module written to /home, or given as a file, imports", async () => {
    const r = await sb.run(
      "import sys\nopen('mine.py', 'w').write('X = 5')\nimport mine, given\nprint(repr(sys.path[0]), mine.X, given.Y)",
      { ...GENEROUS, files: [{ path: "given.py", content: "Y = 6\n" }] },
    );
    assert.equal(r.stdout, "'' 5 6\n", r.stderr);
  });

  it("files land in /home before the program starts; returnFiles brings back new and changed ones", async () => {
    const r = await sb.run(
      "import os\nd = open('data/in.txt').read()\nopen('data/out.txt', 'w').write(d.upper())\n" +
        "open('keep.bin', 'ab').write(b'!')\nprint(sorted(os.listdir('data')), open('same.txt').read())",
      {
        ...GENEROUS,
        files: [
          { path: "data/in.txt", content: "hello" },
          { path: "keep.bin", content: new Uint8Array([0, 255]) },
          { path: "same.txt", content: "unchanged" },
        ],
        returnFiles: true,
      },
    );
    assert.equal(r.stdout, "['in.txt', 'out.txt'] unchanged\n", r.stderr);
    assert.deepEqual(r.files?.map((f) => f.path), ["data/out.txt", "keep.bin"]);
    assert.equal(text(r.files![0]!.content), "HELLO");
    assert.deepEqual([...r.files![1]!.content], [0, 255, 33]);
    assert.equal(r.filesTruncated, false);
  });

  it("returned files beyond the caps are left out and filesTruncated says so", async () => {
    const code = "for i in range(5): open(f'f{i}', 'w').write('x' * 10)";
    const byCount = await sb.run(code, { ...GENEROUS, returnFiles: { maxFiles: 2 } });
    assert.deepEqual([byCount.files?.map((f) => f.path), byCount.filesTruncated], [["f0", "f1"], true]);
    const byBytes = await sb.run(code, { ...GENEROUS, returnFiles: { maxBytes: 35 } });
    assert.deepEqual([byBytes.files?.length, byBytes.filesTruncated], [3, true]);
    const none = await sb.run(code, GENEROUS);
    assert.equal(none.files, undefined);
  });

  it("given files count in the /tmp quota", async () => {
    const r = await sb.run(
      "try:\n    with open('/tmp/x', 'wb') as f: f.write(b'x' * 600)\nexcept OSError as e:\n    print('refused', e.strerror)",
      { ...GENEROUS, tmpQuotaBytes: 1000, files: [{ path: "big", content: new Uint8Array(500) }] },
    );
    assert.match(r.stdout, /^refused/, r.stderr);
  });

  it("nothing of one run's /home is seen by the next", async () => {
    await sb.run("open('left.txt', 'w').write('x')", { ...GENEROUS, files: [{ path: "given", content: "y" }] });
    const r = await sb.run("import os\nprint(os.listdir('/home'))", GENEROUS);
    assert.equal(r.stdout, "[]\n");
  });
});

describe("the bounded queue and the aborted outcome", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1, maxQueue: 1, queueTimeoutMs: 200 });
  });
  after(async () => {
    await sb.close();
  });

  it("a full queue rejects at once with QueueFullError; a long wait with QueueTimeoutError", async () => {
    const stop = new AbortController();
    const busy = sb.run("while True: pass", { ...GENEROUS, signal: stop.signal });
    const waiting = sb.run("print(1)", GENEROUS);
    const waited = waiting.then(() => "ran", (e: unknown) => e);
    await assert.rejects(sb.run("print(2)", GENEROUS), (e: unknown) => e instanceof QueueFullError);
    assert.ok((await waited) instanceof QueueTimeoutError);
    assert.deepEqual(sb.load, { running: 1, queued: 0, workers: 1 });
    stop.abort();
    const r = await busy;
    assert.deepEqual([r.outcome, r.exitCode], ["aborted", 130]);
    assert.equal((await sb.run("print(3)", GENEROUS)).stdout, "3\n");
  });

  it("a program's own sys.exit(130) is an error, not aborted", async () => {
    const r = await sb.run("import sys; sys.exit(130)", GENEROUS);
    assert.deepEqual([r.outcome, r.exitCode], ["error", 130]);
  });
});
