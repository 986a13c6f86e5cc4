/**
 * What the CLI writes for a result, per --format. Pure: returns the text for stdout and stderr;
 * cli-main writes it.
 */
import type { RunLimits, RunResult } from "../sandbox/mod.ts";
import type { CliOptions } from "./args.ts";
import { formatIrc } from "../format/messages.ts";
import { groupDigits, limitsJson, statusLine, usageLine } from "../format/summary.ts";
import { EXIT } from "../options/exit-codes.ts";

/** Colour functions (identity when colour is off). */
export interface Paint {
  note(s: string): string;
  error(s: string): string;
  bold(s: string): string;
}

export const NO_PAINT: Paint = { note: (s) => s, error: (s) => s, bold: (s) => s };

export interface Rendered {
  stdout: string;
  stderr: string;
}

type Shown = Pick<CliOptions, "format" | "maxLines" | "maxBytes" | "verbose">;

/** The JSON object of --format json: exactly these keys, in this order. */
export function jsonView(r: RunResult): Record<string, unknown> {
  return {
    stdout: r.stdout,
    stderr: r.stderr,
    exitCode: r.exitCode,
    outcome: r.outcome,
    fuelUsed: r.fuelUsed,
    fuelUsedIsLowerBound: r.fuelUsedIsLowerBound === true,
    wallMs: r.wallMs,
    truncated: { stdout: r.truncated.stdout, stderr: r.truncated.stderr },
    limits: limitsJson(r.limits),
  };
}

/** Notes raw mode adds on stderr, after the program's own stderr: limits hit, truncation, --verbose. */
export function rawNotes(r: RunResult, o: Shown): string[] {
  const notes: string[] = [];
  const quiet = ["ok", "error", "output_truncated", "aborted"]; // Ctrl-C needs no note
  if (!quiet.includes(r.outcome)) {
    notes.push(
      statusLine(r, { verbose: o.verbose })!,
    );
  }
  for (const stream of ["stdout", "stderr"] as const) {
    if (r.truncated[stream]) {
      notes.push(`${stream} truncated after ${groupDigits(r.limits.maxOutputBytes)} bytes (--max-output)`);
    }
  }
  if (o.verbose) notes.push(usageLine(r));
  return notes;
}

export function renderResult(r: RunResult, o: Shown, paint: Paint = NO_PAINT): Rendered {
  switch (o.format) {
    case "json":
      return { stdout: JSON.stringify(jsonView(r)) + "\n", stderr: "" };
    case "raw": {
      const notes = rawNotes(r, o);
      if (notes.length === 0) return { stdout: r.stdout, stderr: r.stderr };
      const sep = r.stderr === "" || r.stderr.endsWith("\n") ? "" : "\n";
      return {
        stdout: r.stdout,
        stderr: r.stderr + sep + notes.map((n) => paint.note(`wasi-py: ${n}`) + "\n").join(""),
      };
    }
    case "irc": {
      const lines = formatIrc(r, { maxBytes: o.maxBytes, maxLines: o.maxLines, verbose: o.verbose });
      return { stdout: lines.join("\n") + "\n", stderr: "" };
    }
  }
}

/**
 * The result of a run Ctrl-C stopped before the command saw it run: before it started (nothing
 * ran, so no fuel was spent) or a remote one whose result never came (what the service spent is
 * unknown: `fuelUsed` 0 is then a lower bound). It is what a run aborted at once reports: outcome
 * `aborted`, exit status 130, no output.
 */
export function interruptedResult(limits: RunLimits, fuelUsedIsLowerBound: boolean): RunResult {
  return {
    stdout: "",
    stderr: "",
    exitCode: EXIT.interrupted,
    outcome: "aborted",
    fuelUsed: 0,
    fuelUsedIsLowerBound,
    wallMs: 0,
    truncated: { stdout: false, stderr: false },
    limits: { ...limits },
  };
}

/**
 * What the command writes for an interrupted run it has no result of (interruptedResult): the one
 * result line in `irc` and `json`, the one note on stderr in `raw`, so a Ctrl-C always says so.
 */
export function renderInterrupted(result: RunResult, o: Shown, paint: Paint = NO_PAINT): Rendered {
  if (o.format === "raw") return { stdout: "", stderr: paint.note("wasi-py: interrupted (Ctrl-C)") + "\n" };
  return renderResult(result, o, paint);
}
