#!/usr/bin/env node
/**
 * `npm test`: every test file on Node and on Deno, with a summary per runtime at the end. Plain
 * JavaScript, because it runs before anything is compiled.
 *
 * 1. Real peers (scripts/test-plan.mjs, PEERS): a missing one is installed with apt-get when we
 *    are root or have passwordless sudo; otherwise the run stops at once with one line naming the
 *    command to run (WASI_PY_TEST_NO_INSTALL=1 always stops instead of installing).
 * 2. One type check per runtime: tsc builds build/ for Node; `deno check` checks the test tree
 *    once, so each Deno file then runs with --no-check instead of checking its own graph again.
 * 3. Each file in its own process, `--jobs` at a time (default: the machine's cores, at most 2
 *    for now: the files start interpreters and real servers), longest first by the previous run's
 *    times (kept in build/test-times.json; a first run orders by scripts/test-times.json). Both runtimes always run, and both are reported
 *    before the exit status says whether anything failed. A failing file's output is printed in
 *    full; a passing file's is one line.
 * 4. The summary: per runtime, files, tests passed/failed/skipped, wall time and CPU time (user +
 *    system of the file's processes and their children, from bash's `times`), and the slowest files.
 *
 * Usage: node scripts/test.mjs [--only node|deno] [--jobs N] [--dry-run] [file filter...]
 *   --dry-run: print what would run (the peer install included) and run nothing.
 *   A filter keeps the test files whose path contains it (e.g. `cli/` or `pool`).
 * The environment the files get: WASI_PY_TEST_RUNTIMES=node,deno (the halves that run here:
 * a test that starts the other runtime itself may leave that to the other half).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  childCpuSeconds,
  listsPlan,
  longestFirst,
  missingPeers,
  parseCounts,
  peerPlan,
  shellLine,
  skipNotes,
  SYSTEM_BIN_DIRS,
} from "./test-plan.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const TIMES_FILE = join(ROOT, "build", "test-times.json");
/** Seconds per file measured once (scripts/test-times.json), for the order of a first run. */
const SEED_TIMES_FILE = join(ROOT, "scripts", "test-times.json");
/** A file still running after this long is killed and counted as failed. */
const FILE_TIMEOUT_MS = 20 * 60_000;

function parseArgs(argv) {
  const o = { only: undefined, jobs: undefined, dryRun: false, filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--only") o.only = argv[++i];
    else if (a.startsWith("--only=")) o.only = a.slice(7);
    else if (a === "--jobs") o.jobs = Number(argv[++i]);
    else if (a.startsWith("--jobs=")) o.jobs = Number(a.slice(7));
    else if (a === "--dry-run") o.dryRun = true;
    else if (a.startsWith("-")) fail(`unknown option ${a} (usage: --only node|deno, --jobs N, --dry-run, filters)`);
    else o.filters.push(a);
  }
  if (o.only !== undefined && o.only !== "node" && o.only !== "deno") fail(`--only takes node or deno, got ${o.only}`);
  if (o.jobs !== undefined && !(Number.isInteger(o.jobs) && o.jobs >= 1)) fail("--jobs takes a whole number from 1");
  return o;
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

// ---- 1. peers ----

function onPath(bin) {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...SYSTEM_BIN_DIRS];
  return dirs.some((d) => {
    try {
      return statSync(join(d, bin)).isFile();
    } catch {
      return false;
    }
  });
}

function ensurePeers(dryRun) {
  const absent = new Set((process.env.WASI_PY_TEST_ABSENT ?? "").split(",").filter(Boolean));
  const missing = missingPeers((bin) => !absent.has(bin) && onPath(bin));
  const isRoot = process.getuid?.() === 0;
  const hasSudo = !isRoot && missing.length > 0 && onPath("sudo") &&
    spawnSync("sudo", ["-n", "true"], { stdio: "ignore", timeout: 5000 }).status === 0;
  const plan = peerPlan({
    missing,
    isRoot,
    hasSudo,
    hasAptGet: onPath("apt-get"),
    install: !process.env.WASI_PY_TEST_NO_INSTALL,
  });
  const hasAptGet = onPath("apt-get");
  const refresh = listsPlan({
    listsKnowPackages: !onPath("apt-cache") ||
      spawnSync("apt-cache", ["show", "python3-sympy"], { stdio: "ignore", timeout: 30_000 }).status === 0,
    peersInstalled: plan.action === "install",
    isRoot,
    hasSudo: hasSudo || (!isRoot && onPath("sudo") &&
      spawnSync("sudo", ["-n", "true"], { stdio: "ignore", timeout: 5000 }).status === 0),
    hasAptGet,
    install: !process.env.WASI_PY_TEST_NO_INSTALL,
  });
  for (const argv of refresh) {
    process.stderr.write("npm test: refreshing apt's package lists (the package-image test downloads .deb files)\n");
    if (dryRun) process.stdout.write(`would run: ${shellLine(argv)}\n`);
    else spawnSync(argv[0], argv.slice(1), { stdio: ["ignore", "inherit", "inherit"] });
  }
  if (plan.action === "none") return;
  if (plan.action === "stop") fail(plan.message);
  process.stderr.write(`npm test: installing the tests' real peers: ${missing.join(" ")}\n`);
  for (const argv of plan.commands) {
    if (dryRun) {
      process.stdout.write(`would run: ${shellLine(argv)}\n`);
      continue;
    }
    const r = spawnSync(argv[0], argv.slice(1), { stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) fail(`npm test: \`${shellLine(argv)}\` failed (exit ${r.status ?? r.signal}); run it by hand`);
  }
}

// ---- 2. files and type checks ----

function testFiles(filters) {
  const out = [];
  const visit = (dir) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory() && rel !== join("test", "fixtures")) visit(rel);
      else if (e.name.endsWith(".test.ts")) out.push(rel);
    }
  };
  visit("test");
  return out.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
}

/** The Deno binary the deno npm package installed, or its launcher under this Node. */
function denoCommand() {
  const exe = join(ROOT, "node_modules", "deno", "deno");
  if (existsSync(exe)) return [exe];
  const launcher = join(ROOT, "node_modules", "deno", "bin.cjs");
  if (existsSync(launcher)) return [process.execPath, launcher];
  return undefined;
}

/** Runs a setup step (output shown only when it fails); returns its record, or undefined when it failed. */
async function step(label, argv, dryRun) {
  if (dryRun) {
    process.stdout.write(`would run: ${shellLine(argv)}\n`);
    return { wallSeconds: 0, cpuSeconds: 0 };
  }
  const r = await runTimed(argv, process.env);
  const ok = r.status === 0;
  if (!ok) process.stdout.write(r.output);
  const cpu = r.cpuSeconds === undefined ? "" : `, cpu ${r.cpuSeconds.toFixed(1)} s`;
  process.stdout.write(`${ok ? "ok  " : "FAIL"} ${label} (${r.wallSeconds.toFixed(1)} s${cpu})\n`);
  return ok ? r : undefined;
}

// ---- 3. running files ----

/** The command for one file on one runtime. */
function fileCommand(runtime, file, deno) {
  if (runtime === "node") {
    const built = join("build", file.replace(/\.ts$/, ".js"));
    return [process.execPath, "--test", "--test-reporter=tap", built];
  }
  return [...deno, "test", "-A", "--no-check", file];
}

/** Process groups of the files running now: stopped with the runner (Ctrl-C) or after FILE_TIMEOUT_MS. */
const running = new Set();
const killGroup = (pid) => {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
};
process.on("SIGINT", () => {
  for (const pid of running) killGroup(pid);
  process.stderr.write("\nnpm test: interrupted\n");
  process.exit(130);
});

/**
 * Runs argv under bash so that `times` reports the CPU the whole process tree used, in a process
 * group of its own (so that a timeout stops the file's children too).
 */
function runTimed(argv, env) {
  return new Promise((resolve) => {
    const start = performance.now();
    const script = '"$@"; s=$?; times >&3; exit $s';
    const child = spawn("bash", ["-c", script, "bash", ...argv], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      detached: true,
    });
    running.add(child.pid);
    let output = "";
    let times = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.stdio[3].on("data", (d) => (times += d));
    const timer = setTimeout(() => {
      output += `\n[scripts/test.mjs: killed after ${FILE_TIMEOUT_MS / 60_000} minutes]\n`;
      killGroup(child.pid);
    }, FILE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child.pid);
      resolve({
        status: code ?? 128,
        signal,
        output,
        wallSeconds: (performance.now() - start) / 1000,
        cpuSeconds: childCpuSeconds(times),
      });
    });
  });
}

/** Runs the files of one runtime `jobs` at a time; returns one record per file. */
async function runAll(runtime, files, jobs, deno, env, lastTimes) {
  const queue = longestFirst(files, Object.fromEntries(files.map((f) => [f, lastTimes[`${runtime} ${f}`]])));
  const records = [];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const r = await runTimed(fileCommand(runtime, file, deno), env);
      const counts = parseCounts(runtime, r.output);
      const ok = r.status === 0 && counts.failed === 0;
      records.push({ runtime, file, ok, ...counts, ...r });
      const cpu = r.cpuSeconds === undefined ? "" : `, cpu ${r.cpuSeconds.toFixed(1)} s`;
      const line = `${ok ? "ok  " : "FAIL"} ${runtime} ${file}: ${counts.passed} passed` +
        `${counts.failed ? `, ${counts.failed} failed` : ""}${counts.skipped ? `, ${counts.skipped} skipped` : ""}` +
        ` (${r.wallSeconds.toFixed(1)} s${cpu})\n`;
      if (!ok) process.stdout.write(`\n---- ${runtime} ${file} ----\n${r.output}\n`);
      const skips = counts.skipped ? skipNotes(runtime, r.output).map((n) => `       skipped: ${n}\n`).join("") : "";
      process.stdout.write(line + skips);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  return records;
}

// ---- 4. summary ----

/** One runtime's summary: `setup` is its type check's record (undefined when it failed). */
function summarise(runtime, records, wallSeconds, setup) {
  const sum = (k) => records.reduce((s, r) => s + (r[k] ?? 0), 0);
  const failedFiles = records.filter((r) => !r.ok).map((r) => r.file);
  const ok = setup !== undefined && failedFiles.length === 0;
  const cpuSeconds = sum("cpuSeconds") + (setup?.cpuSeconds ?? 0);
  const lines = [
    `${ok ? "PASS" : "FAIL"} ${runtime}: ${records.length} files, ${sum("passed")} passed, ${sum("failed")} failed, ` +
    `${sum("skipped")} skipped; wall ${fmtDuration(wallSeconds)}, cpu ${fmtDuration(cpuSeconds)} (type check included)`,
  ];
  if (setup === undefined) lines.push(`  its type check failed (above)`);
  for (const f of failedFiles) lines.push(`  failed: ${f}`);
  const slowest = [...records].sort((a, b) => b.wallSeconds - a.wallSeconds).slice(0, 5);
  if (slowest.length > 0) {
    const each = slowest.map((r) =>
      `${relative("test", r.file)} ${r.wallSeconds.toFixed(0)}/${(r.cpuSeconds ?? 0).toFixed(0)} s`
    );
    lines.push(`  slowest (wall/cpu): ${each.join(", ")}`);
  }
  return { ok, text: lines.join("\n") };
}

function fmtDuration(seconds) {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** The last run's seconds per file, over the committed seed (a first run has only the seed). */
function loadTimes() {
  const read = (path) => {
    try {
      return JSON.parse(readFileSync(path, "utf8"));
    } catch {
      return {};
    }
  };
  return { ...read(SEED_TIMES_FILE), ...read(TIMES_FILE) };
}

function saveTimes(previous, records) {
  const times = { ...previous };
  for (const r of records) times[`${r.runtime} ${r.file}`] = Math.round(r.wallSeconds * 10) / 10;
  mkdirSync(dirname(TIMES_FILE), { recursive: true });
  writeFileSync(TIMES_FILE, `${JSON.stringify(times, null, 1)}\n`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const runtimes = o.only === undefined ? ["node", "deno"] : [o.only];
  const deno = denoCommand();
  if (runtimes.includes("deno") && deno === undefined) fail("npm test: Deno is not installed: run `npm install`");
  if (!existsSync(join(ROOT, "node_modules", "typescript"))) fail("npm test: run `npm install` first");
  ensurePeers(o.dryRun);
  const files = testFiles(o.filters);
  if (files.length === 0) fail(`npm test: no test file matches ${o.filters.join(" ")}`);
  const jobs = o.jobs ?? Math.max(1, Math.min(2, availableParallelism()));
  const env = { ...process.env, WASI_PY_TEST_RUNTIMES: runtimes.join(",") };
  const lastTimes = loadTimes();
  const tsc = [process.execPath, join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"];
  // build/ first whatever the order: the Deno half's cross-runtime tests start Node on build/.
  // The command's build (scripts/build.mjs: build/src and the bundles) comes first and once: a
  // checkout's bin/wasi-py.js rebuilds (emptying build/src) when the bundle is older than the
  // sources, which would pull modules from under the test files running beside it.
  const bundled = await step(
    "node scripts/build.mjs",
    [process.execPath, join(ROOT, "scripts", "build.mjs")],
    o.dryRun,
  );
  const built = bundled === undefined ? undefined : await step("tsc -p tsconfig.json", tsc, o.dryRun);
  const summaries = [];
  const all = [];
  for (const runtime of runtimes) {
    const start = performance.now();
    // Deno checks the whole test tree once; the files then run with --no-check.
    const setup = runtime === "node" ? built : await step("deno check test/", [...deno, "check", "test/"], o.dryRun);
    if (o.dryRun) {
      for (const f of files) process.stdout.write(`would run: ${shellLine(fileCommand(runtime, f, deno))}\n`);
      continue;
    }
    // Without build/ Node has nothing to run; Deno's files still run when only its check failed.
    const records = setup !== undefined || runtime === "deno"
      ? await runAll(runtime, files, jobs, deno, env, lastTimes)
      : [];
    all.push(...records);
    const wallSeconds = (performance.now() - start) / 1000 + (runtime === "node" ? built?.wallSeconds ?? 0 : 0);
    summaries.push(summarise(runtime, records, wallSeconds, setup));
  }
  if (o.dryRun) return 0;
  saveTimes(lastTimes, all);
  process.stdout.write(`\n==== summary ====\n${summaries.map((s) => s.text).join("\n")}\n`);
  return summaries.every((s) => s.ok) ? 0 : 1;
}

process.exitCode = await main();
