#!/usr/bin/env node
/**
 * wasi-py's entry point. Node: the package bin (bin/wasi-py.js) imports the compiled build/cli.js.
 * Deno: `deno run <permissions> cli.ts …` (README, "Deno"); the permissions are checked before the
 * command loads, so a missing one is one line rather than a NotCapable trace.
 */
import { exitUnlessDenoPermissions } from "./src/platform/permissions.ts";
import { cliArgs, exitProcess } from "./src/platform/process.ts";

exitUnlessDenoPermissions(cliArgs());
const { main } = await import("./src/cli/main.ts");
exitProcess(await main(cliArgs()));
