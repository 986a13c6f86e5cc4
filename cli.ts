#!/usr/bin/env node
/** wasi-py's entry point (package bin: build/cli.js; Deno: `deno task wasi-py` or `deno run -A cli.ts`). */
import { main } from "./src/cli/main.ts";
import { cliArgs, exitProcess } from "./src/platform/process.ts";

exitProcess(await main(cliArgs()));
