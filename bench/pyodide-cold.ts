/**
 * Child process for the cold Pyodide figure: load Pyodide, run argv[2], print its output, exit.
 * Timed from outside as a whole process, like `wasi-py 'print(1)'`.
 */
import process from "node:process";
import { fetchesSeen, runInPyodide, startPyodide } from "./pyodide-runner.ts";

const code = process.argv[2];
if (code === undefined) {
  process.stderr.write("usage: pyodide-cold.js CODE\n");
  process.exit(2);
}
const h = await startPyodide();
process.stdout.write(runInPyodide(h, code));
if (fetchesSeen.length > 0) {
  process.stderr.write(`pyodide fetched: ${fetchesSeen.join(", ")}\n`);
  process.exit(3);
}
process.exit(0);
