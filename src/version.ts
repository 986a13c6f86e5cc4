/** wasi-py's own version; kept in step with package.json and deno.json. */
export const VERSION = "0.1.0";
