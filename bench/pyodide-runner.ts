/**
 * Pyodide (the npm package, CPython 3.13 compiled with Emscripten) driven like our sandbox: load
 * it, run a program, collect what it printed. Everything comes from node_modules/pyodide; nothing
 * is downloaded as long as no package outside the stdlib is loaded (fetch is wrapped to detect it).
 */
import { loadPyodide } from "pyodide";

export type PyodideApi = Awaited<ReturnType<typeof loadPyodide>>;

/** Network fetches Pyodide attempted in this process (should stay empty). */
export const fetchesSeen: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  fetchesSeen.push(String(input instanceof Request ? input.url : input));
  return realFetch(input, init);
}) as typeof fetch;

export interface PyodideHandle {
  py: PyodideApi;
  /** Output collected since the last take(). */
  take(): string;
}

export async function startPyodide(): Promise<PyodideHandle> {
  let out = "";
  const decoder = new TextDecoder();
  const py = await loadPyodide({});
  py.setStdout({
    write: (buf: Uint8Array) => {
      out += decoder.decode(buf);
      return buf.length;
    },
  });
  py.setStderr({ write: (buf: Uint8Array) => buf.length });
  return {
    py,
    take: () => {
      const s = out;
      out = "";
      return s;
    },
  };
}

/** Runs `code` in a fresh globals dict (the interpreter and its imported modules are shared). */
export function runInPyodide(h: PyodideHandle, code: string): string {
  const globals = h.py.globals.get("dict")();
  try {
    h.py.runPython(code, { globals });
  } finally {
    globals.destroy();
  }
  return h.take();
}
