/**
 * Which halves of the suite this `npm test` runs: scripts/test.mjs sets WASI_PY_TEST_RUNTIMES
 * (`node,deno`, or one of them). A test that starts the other runtime itself can then leave that
 * work to the other half when both run, instead of doing it twice, and still does it all when it
 * runs alone (`npm run test:node`, one file by hand).
 */
import process from "node:process";

/** This runtime's name, as WASI_PY_TEST_RUNTIMES spells it. */
export const THIS_RUNTIME: "node" | "deno" = "Deno" in globalThis ? "deno" : "node";

/**
 * Whether the other runtime's half runs in this same `npm test`.
 *
 * @example
 * // WASI_PY_TEST_RUNTIMES=node,deno, on Node:
 * otherHalfRuns(); // true
 */
export function otherHalfRuns(): boolean {
  const halves = (process.env["WASI_PY_TEST_RUNTIMES"] ?? "").split(",");
  return halves.includes(THIS_RUNTIME === "node" ? "deno" : "node");
}
