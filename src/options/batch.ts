/**
 * The limits of `wasi-py --batch` that are not run limits: how long one input line may be. A line
 * is held in memory several times over while it is decoded, parsed and handed to a worker, and
 * several lines are in flight at once, so the cap is what bounds the batch's host memory
 * (src/cli/batch.ts states the multiple); a longer line is answered with an error and skipped.
 */
import { BYTES } from "./spec.ts";
import type { OptionSpec } from "./spec.ts";

/** The batch's own limits, by their CLI option name. */
export const BATCH_LIMITS = {
  maxLineBytes: {
    key: "maxLineBytes",
    configKey: "maxLineBytes",
    flag: "max-line",
    kind: BYTES,
    valueName: "BYTES",
    unit: "bytes",
    default: 8 * 1024 * 1024,
    min: 1024,
    max: 128 * 1024 * 1024,
    help: "batch: longest input line in bytes, k/M suffixes ok",
  },
} as const satisfies Record<string, OptionSpec>;
