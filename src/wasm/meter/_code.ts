/**
 * Rewrites the code section one function at a time: plan the body (_plan.ts), declare
 * the new locals, then copy the input bytes through with the planned code spliced in at
 * its positions (_emit.ts). Operators themselves are never re-encoded, only copied, so
 * the output differs from the input only by the insertions.
 */
import { type SectionSpan, ValType } from "../binary.ts";
import { ByteReader, ByteWriter, WasmFormatError } from "../bytes.ts";
import { InstrReader, type LocalsHeader, readLocals } from "../instr.ts";
import { EMIT, type Emitter } from "./_emit.ts";
import { Ins, Scratch } from "./_insertions.ts";
import { type BodyPlan, BodyPlanner, type PlanConfig } from "./_plan.ts";
import type { MeterStats } from "./result.ts";
import { frameWeight } from "./stack.ts";
import { V8_MAX_FUNCTION_BODY_BYTES, V8_MAX_FUNCTION_LOCALS } from "./v8-limits.ts";

/** Everything one body's rewrite reads and writes, shared across the section. */
interface CodeJob {
  bytes: Uint8Array;
  paramCounts: number[];
  emitter: Emitter;
  stats: MeterStats;
  cfg: PlanConfig;
  planner: BodyPlanner;
  scratch: Scratch;
  /** The rewritten body being built (reused). */
  body: ByteWriter;
}

/** Rewrites the code section, metering every defined function. */
export function meterCode(
  bytes: Uint8Array,
  span: SectionSpan,
  paramCounts: number[],
  emitter: Emitter,
  stats: MeterStats,
  cfg: PlanConfig,
): ByteWriter {
  const r = new ByteReader(bytes, span.start, span.end);
  const count = r.u32();
  if (count !== paramCounts.length) {
    r.fail(`code section has ${count} bodies but the function section declares ${paramCounts.length}`);
  }
  const out = new ByteWriter(Math.ceil((span.end - span.start) * 1.4) + 64);
  out.u32(count);
  const scratch = new Scratch();
  const job: CodeJob = {
    bytes,
    paramCounts,
    emitter,
    stats,
    cfg,
    planner: new BodyPlanner(scratch),
    scratch,
    body: new ByteWriter(1 << 16),
  };
  for (let f = 0; f < count; f++) {
    const size = r.u32();
    const bodyStart = r.pos;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > span.end) r.fail(`body of function ${f} runs past the code section`);
    meterFunction(job, f, bodyStart, bodyEnd);
    out.sized(job.body);
    r.pos = bodyEnd;
    stats.functions++;
  }
  if (r.pos !== span.end) r.fail("code section has trailing bytes");
  return out;
}

/** Rewrites defined function `f` into `job.body`. */
function meterFunction(job: CodeJob, f: number, bodyStart: number, bodyEnd: number): void {
  const { bytes, cfg, emitter, body } = job;
  const ir = new InstrReader(bytes, bodyStart, bodyEnd);
  const locals = readLocals(ir);
  const local = cfg.fuelIn === "local" || (cfg.fuelIn === "loops" && cfg.hasLoop[f] === 1);
  const fcfg = local === cfg.local ? cfg : { ...cfg, local };
  emitter.local = local;
  let plan: BodyPlan;
  try {
    plan = job.planner.plan(ir, fcfg);
  } catch (e) {
    if (e instanceof WasmFormatError) throw new WasmFormatError(`defined function ${f}: ${e.message}`);
    throw e;
  }
  body.length = 0;
  writeLocals(job, f, locals, local, plan);
  const copied = writeInsertions(job, f, locals.codeStart, plan.count);
  body.bytes(bytes, copied, bodyEnd);
  if (body.length > V8_MAX_FUNCTION_BODY_BYTES) {
    throw new WasmFormatError(
      `defined function ${f}: metered body of ${body.length} bytes exceeds V8's limit of ${V8_MAX_FUNCTION_BODY_BYTES}`,
    );
  }
  if (body.length > job.stats.largestBodyBytes) job.stats.largestBodyBytes = body.length;
}

/**
 * Numbers the new locals and writes the locals header: the input's groups, then the
 * fuel local (i64, local mode), the scratch local (i32) and the stack level (i32), after the
 * existing ones.
 */
function writeLocals(job: CodeJob, f: number, locals: LocalsHeader, local: boolean, plan: BodyPlan): void {
  const { emitter, body, paramCounts } = job;
  let next = paramCounts[f]! + locals.count;
  let groups = locals.groups;
  if (local) {
    emitter.fuelLocal = next++;
    groups++;
  }
  if (plan.needsScratchLocal) {
    emitter.scratchLocal = next++;
    groups++;
  }
  if (plan.needsStackLocal) {
    emitter.stackLocal = next++;
    groups++;
    emitter.stackWeight = frameWeight(next);
  }
  const declared = next - paramCounts[f]!;
  if (declared > V8_MAX_FUNCTION_LOCALS) {
    throw new WasmFormatError(
      `defined function ${f}: ${declared} locals exceed V8's limit of ${V8_MAX_FUNCTION_LOCALS}`,
    );
  }
  body.u32(groups);
  body.bytes(job.bytes, locals.groupsStart, locals.codeStart);
  if (local) {
    body.u8(1);
    body.u8(ValType.I64);
  }
  if (plan.needsScratchLocal) {
    body.u8(1);
    body.u8(ValType.I32);
  }
  if (plan.needsStackLocal) {
    body.u8(1);
    body.u8(ValType.I32);
  }
}

/** Copies the operators from `from` on, splicing in the planned code; returns where copying stopped. */
function writeInsertions(job: CodeJob, f: number, from: number, count: number): number {
  const { bytes, body, emitter, stats } = job;
  const { insPos, insKind, insCost } = job.scratch;
  let copied = from;
  for (let i = 0; i < count; i++) {
    const kind = insKind[i]!;
    if (kind === Ins.None || (kind === Ins.Charge && insCost[i] === 0)) continue;
    if (insCost[i]! > 0) stats.blocksCharged++;
    if (kind === Ins.Entry || kind === Ins.LoopCheck) stats.checks++;
    if (kind === Ins.BulkBytes) stats.bulkCharges++;
    const pos = insPos[i]!;
    if (pos < copied) throw new Error(`internal error: insertions out of order in function ${f}`);
    body.bytes(bytes, copied, pos);
    copied = pos;
    EMIT[kind]!(emitter, body, insCost[i]!);
  }
  return copied;
}
