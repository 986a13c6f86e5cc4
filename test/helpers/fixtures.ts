/**
 * Where the test fixtures are. Node runs the compiled tests from build/test/, Deno runs the
 * sources in test/: both find the fixtures from the repository root, never relative to the
 * running test file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../src/sandbox/assets.ts";

/** Absolute path of `test/fixtures/<parts…>`. */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot(), "test", "fixtures", ...parts);
}

/** Text of `test/fixtures/<parts…>`. */
export function readFixtureText(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), "utf8");
}
