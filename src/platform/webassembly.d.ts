/**
 * The part of the WebAssembly JS API the sandbox uses. tsconfig's `lib` (ES2023, no DOM) has no
 * WebAssembly types, and Deno type-checks with that same lib, so files that use WebAssembly pull
 * this in with a `/// <reference path>` directive.
 */
declare namespace WebAssembly {
  type ImportExportKind = "function" | "global" | "memory" | "table" | "tag";
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: ImportExportKind;
  }
  interface ModuleExportDescriptor {
    name: string;
    kind: ImportExportKind;
  }
  type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;
  type ImportValue = ExportValue | number | bigint;
  type Imports = Record<string, Record<string, ImportValue>>;

  class Module {
    constructor(bytes: BufferSource);
    static imports(module: Module): ModuleImportDescriptor[];
    static exports(module: Module): ModuleExportDescriptor[];
    static customSections(module: Module, name: string): ArrayBuffer[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Exports;
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  interface GlobalDescriptor {
    value: "i32" | "i64" | "f32" | "f64";
    mutable?: boolean;
  }
  class Global {
    constructor(descriptor: GlobalDescriptor, value?: number | bigint);
    value: number | bigint;
  }
  class Table {
    readonly length: number;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  type BufferSource = ArrayBufferView | ArrayBuffer;
  function compile(bytes: BufferSource): Promise<Module>;
  function validate(bytes: BufferSource): boolean;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
