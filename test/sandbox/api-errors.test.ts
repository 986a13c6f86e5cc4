/**
 * The public API's errors the way the built-ins raise them: a value of the wrong type is a
 * TypeError, a value of the right type that is not allowed a LimitError, which is a RangeError;
 * and the limits' defaults and bounds as the package entry exports them.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { BOUNDS, DEFAULT_LIMITS, LimitError, Sandbox } from "../../src/sandbox/mod.ts";
import type { RunLimitKey, RunOptions, SandboxOptions } from "../../src/sandbox/mod.ts";
import { interpreterOptions } from "../helpers/interpreter.ts";

/** Options as a caller without types might pass them. */
const loose = (o: Record<string, unknown>) => o as RunOptions;

describe("the package entry's limits", () => {
  it("DEFAULT_LIMITS and BOUNDS name every limit, defaults within bounds", () => {
    const keys: RunLimitKey[] = ["fuel", "timeoutMs", "memoryMiB", "maxOutputBytes", "tmpQuotaBytes", "tmpMaxFiles"];
    assert.deepEqual(Object.keys(DEFAULT_LIMITS).sort(), [...keys].sort());
    for (const k of keys) assert.ok(DEFAULT_LIMITS[k] <= BOUNDS[k], k);
    assert.ok(Object.isFrozen(DEFAULT_LIMITS) && Object.isFrozen(BOUNDS));
  });
  it("LimitError is a RangeError that names its limit", () => {
    const e = new LimitError("must be at least 8", { limit: "memoryMiB" });
    assert.ok(e instanceof RangeError && e instanceof Error);
    assert.equal(e.name, "LimitError");
    assert.equal(e.message, "memoryMiB must be at least 8");
  });
});

describe("wrong types are TypeErrors, values out of range LimitErrors", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ ...interpreterOptions(), workers: 1 });
  });
  after(async () => {
    await sb.close();
  });
  const runs: Array<[string, RunOptions, typeof TypeError | typeof LimitError, RegExp]> = [
    ["fuel as text", loose({ fuel: "1e9" }), TypeError, /^fuel must be a number, got a string$/],
    ["timeoutMs null", loose({ timeoutMs: null }), TypeError, /^timeoutMs must be a number, got null$/],
    ["memoryMiB as an array", loose({ memoryMiB: [256] }), TypeError, /got an array$/],
    ["a megabyte string is not echoed", loose({ fuel: "9".repeat(1 << 20) }), TypeError, /^fuel .{0,40}$/],
    ["stdin a number", loose({ stdin: 5 }), TypeError, /^stdin must be .*, got a number$/],
    ["args not strings", loose({ args: [1] }), TypeError, /^args must be an array of strings$/],
    ["files not an array", loose({ files: "a" }), TypeError, /^files must be an array/],
    ["a file's content a number", loose({ files: [{ path: "a", content: 1 }] }), TypeError, /content/],
    ["a file's path a number", loose({ files: [{ path: 1, content: "" }] }), TypeError, /path must be a string/],
    ["returnFiles a string", loose({ returnFiles: "yes" }), TypeError, /^returnFiles must be/],
    ["returnFiles.maxFiles text", loose({ returnFiles: { maxFiles: "1" } }), TypeError, /maxFiles must be a number/],
    [
      "signal not an AbortSignal",
      loose({ signal: "stop" }),
      TypeError,
      /^signal must be an AbortSignal, got a string$/,
    ],
    ["signal a look-alike", loose({ signal: { aborted: false } }), TypeError, /^signal must be an AbortSignal/],
    ["options null", null as unknown as RunOptions, TypeError, /^options must be an object, got null$/],
    ["options a string", "fast" as unknown as RunOptions, TypeError, /^options must be an object, got a string$/],
    ["fuel negative", { fuel: -1 }, LimitError, /^fuel must be/],
    ["memoryMiB past 4096", { memoryMiB: 4097 }, LimitError, /^memoryMiB must be/],
    ["a fractional timeout", { timeoutMs: 1.5 }, LimitError, /^timeoutMs must be/],
    ["an empty file path", { files: [{ path: "", content: "" }] }, LimitError, /non-empty/],
    ["returnFiles.maxFiles negative", { returnFiles: { maxFiles: -1 } }, LimitError, /non-negative/],
  ];
  for (const [name, options, kind, message] of runs) {
    it(`run: ${name}`, async () => {
      await assert.rejects(sb.run("print(1)", options), (e: unknown) => {
        assert.ok(e instanceof kind, `${(e as Error)?.name}: ${(e as Error)?.message}`);
        assert.match((e as Error).message, message);
        if (kind === TypeError) assert.ok(!(e instanceof RangeError), "a TypeError is not a LimitError");
        return true;
      });
    });
  }
  const creates: Array<[string, Record<string, unknown>, typeof TypeError | typeof LimitError]> = [
    ["workers as text", { workers: "2" }, TypeError],
    ["workers zero", { workers: 0 }, LimitError],
    ["maxQueue as text", { maxQueue: "5" }, TypeError],
    ["maxQueue negative", { maxQueue: -1 }, LimitError],
    ["recycleMemoryMiB as text", { recycleMemoryMiB: "64" }, TypeError],
    ["recycleMemoryMiB zero", { recycleMemoryMiB: 0 }, LimitError],
    ["warm as text", { warm: "yes" }, TypeError],
    ["packages a path, not a list", { packages: "/pkgs/a.tar.br" }, TypeError],
    ["packages not paths", { packages: [1] }, TypeError],
    ["driver a number", { driver: 1 }, TypeError],
    ["wasm as text", { wasm: "python.wasm" }, TypeError],
  ];
  for (const [name, options, kind] of creates) {
    it(`create: ${name}`, async () => {
      await assert.rejects(Sandbox.create({ ...interpreterOptions(), ...options } as SandboxOptions), kind);
    });
  }
  it("create: options that are not an object", async () => {
    for (const options of [null, "fast", [1]]) {
      await assert.rejects(Sandbox.create(options as unknown as SandboxOptions), (e: unknown) => {
        assert.ok(e instanceof TypeError && !(e instanceof RangeError), String(e));
        assert.match(e.message, /^options must be an object, got /);
        return true;
      });
    }
  });
});
