/**
 * Background work that must not keep the process alive: a library user's script that closes its
 * sandbox and ends should exit at once, not when a background task (pinning the stdlib image,
 * src/sandbox/_image-fill.ts) is done. Node's timers have unref(); Deno's are numbers unref'd
 * through Deno.unrefTimer.
 */

/**
 * Runs `task` on a later turn of the event loop, without keeping the process alive for it.
 *
 * @example
 * ```ts
 * inBackground(() => console.log("later, if the process is still running"));
 * ```
 */
export function inBackground(task: () => void): void {
  const timer = setTimeout(task, 0) as unknown;
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
  else (timer as { unref?: () => void }).unref?.();
}
