/**
 * V8's limits on one function. The rewriter grows every body and adds locals, so it
 * checks the result against these and fails at build time with the function's index,
 * rather than shipping a module that V8 refuses to compile.
 */

/**
 * The largest function body V8 compiles, in bytes.
 *
 * @example
 * ```ts
 * if (body.length > V8_MAX_FUNCTION_BODY_BYTES) throw new WasmFormatError("body too large for V8");
 * ```
 */
export const V8_MAX_FUNCTION_BODY_BYTES = 7_654_321;

/**
 * The most locals (parameters excluded) a function may declare in V8.
 *
 * @example
 * ```ts
 * if (declared > V8_MAX_FUNCTION_LOCALS) throw new WasmFormatError("too many locals for V8");
 * ```
 */
export const V8_MAX_FUNCTION_LOCALS = 50_000;
