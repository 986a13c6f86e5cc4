/**
 * Decodes every function body operator by operator and encodes it again from the decoded
 * fields. The metering rewrite copies operators verbatim, so this is how tests prove the
 * decoder understands (and measures the length of) every operator a module uses.
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import { readSections, SectionId, WASM_MAGIC_AND_VERSION, writeSection } from "./binary.ts";
import { InstrReader, readLocals, writeInstr } from "./instr.ts";

/**
 * Returns the module with its code section re-encoded; equal to the input when LEB128s are canonical.
 *
 * @example
 * ```ts
 * assert.deepEqual(reencodeModule(wasm), wasm); // every operator decoded to its full length
 * ```
 */
export function reencodeModule(input: Uint8Array): Uint8Array {
  const out = new ByteWriter(input.length + 64);
  out.bytes(WASM_MAGIC_AND_VERSION);
  for (const s of readSections(input)) {
    if (s.id !== SectionId.Code) {
      writeSection(out, s.id, input.subarray(s.start, s.end));
      continue;
    }
    const r = new ByteReader(input, s.start, s.end);
    const code = new ByteWriter(s.end - s.start + 64);
    const count = r.u32();
    code.u32(count);
    const body = new ByteWriter(1024);
    for (let f = 0; f < count; f++) {
      const size = r.u32();
      const end = r.pos + size;
      const ir = new InstrReader(input, r.pos, end);
      const locals = readLocals(ir);
      body.length = 0;
      body.u32(locals.groups);
      body.bytes(input, locals.groupsStart, locals.codeStart);
      while (!ir.atEnd) {
        ir.next();
        writeInstr(body, ir);
      }
      code.sized(body);
      r.pos = end;
    }
    writeSection(out, s.id, code);
  }
  return out.toBytes();
}
