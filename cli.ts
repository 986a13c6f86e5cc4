#!/usr/bin/env node
/**
 * wasi-py's entry point. Node: the package bin (bin/wasi-py.js) imports the compiled build/cli.js.
 * Deno: `deno run <permissions> cli.ts …` (README, "Deno"); the permissions are checked before the
 * command loads, so a missing one is one line rather than a NotCapable trace.
 */
import { exitUnlessDenoPermissions } from "./src/platform/permissions.ts";
import { cliArgs, envVar, exitProcess, noteEarlyInterrupts } from "./src/platform/process.ts";
import { optionPart } from "./src/cli/argv.ts";
import { KNOWN_OPTIONS } from "./src/cli/known.ts";

// A Ctrl-C while the command loads is noted and reported by it, not the runtime's silent exit.
noteEarlyInterrupts();
// Only our options (before the code) ask for permissions: `CODE --irc --server h` needs no network.
exitUnlessDenoPermissions(optionPart(cliArgs(), KNOWN_OPTIONS));
// Through a service (--server URL or WASI_PY_SERVER): a small client, no interpreter code loaded.
const remote = await import("./src/cli/remote.ts");
const target = remote.remoteTarget(cliArgs(), envVar);
if (target !== undefined) exitProcess(await remote.runRemote(target, envVar));
const { main } = await import("./src/cli/main.ts");
exitProcess(await main(cliArgs()));
