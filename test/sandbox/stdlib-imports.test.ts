/**
 * The built interpreter, in the real sandbox, imports the stdlib modules listed in
 * test/fixtures/stdlib-modules.txt and uses the C-library-backed ones for real.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../src/sandbox/mod.ts";
import { readFixtureText } from "../helpers/fixtures.ts";

function readFixture(): string {
  return readFixtureText("stdlib-modules.txt");
}

const MODULES = readFixture()
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));

const PROGRAM = `
import sys, importlib
failed = []
for name in ${JSON.stringify(MODULES)}:
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
print("version", sys.version)
print("failed", failed)

import hashlib
print("hashes", [hashlib.new(h, b"abc").hexdigest()[:8] for h in ("md5", "sha256", "blake2b", "sha3_256")])

import zoneinfo, datetime
print("berlin", datetime.datetime(2026, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")).isoformat())

import sqlite3
db = sqlite3.connect(":memory:")
db.execute("create table t (x integer)")
db.executemany("insert into t values (?)", [(i,) for i in range(10)])
print("sqlite", db.execute("select sum(x) from t").fetchone()[0])

import zlib, bz2, lzma
data = b"wasi-py " * 1000
print("roundtrip", [m.decompress(m.compress(data)) == data for m in (zlib, bz2, lzma)])
`;

test(`imports ${MODULES.length} stdlib modules and uses zlib, bz2, lzma, sqlite3, hashlib, zoneinfo`, async () => {
  assert.ok(MODULES.length >= 60, "the list has at least 60 modules");
  const r = await run(PROGRAM, { fuel: 20_000_000_000, timeoutMs: 120_000 });
  assert.equal(r.stderr, "");
  assert.equal(r.outcome, "ok", r.stderr);
  const lines = r.stdout.split("\n");
  assert.match(lines[0]!, /^version 3\.13\.\d+ /);
  assert.equal(lines[1], "failed []");
  assert.equal(lines[2], "hashes ['90015098', 'ba7816bf', 'ba80a53f', '3a985da7']");
  assert.equal(lines[3], "berlin 2026-07-01T12:00:00+02:00");
  assert.equal(lines[4], "sqlite 45");
  assert.equal(lines[5], "roundtrip [True, True, True]");
});

test("modules that need what the sandbox lacks fail with CPython's own error", async () => {
  const r = await run(
    `
for name in ("ctypes", "ssl", "_multiprocessing"):
    try:
        __import__(name)
        print(name, "imported")
    except ImportError as e:
        print(name, type(e).__name__, e)
`,
    { fuel: 5_000_000_000, timeoutMs: 60_000 },
  );
  assert.equal(r.outcome, "ok", r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "ctypes ModuleNotFoundError No module named '_ctypes'",
    "ssl ModuleNotFoundError No module named '_ssl'",
    "_multiprocessing ModuleNotFoundError No module named '_multiprocessing'",
  ]);
});
