/**
 * poll_oneoff (clock and fd-readiness subscriptions; clocks sleep through the host's `sleep`) and
 * the socket calls, which answer NOTSUP: the guest has no sockets. Regular files and the output
 * streams are always ready; stdin is ready when it holds bytes or has ended, so `select` on an
 * empty open pipe waits (for its timeout, for input, or until the run's deadline).
 */
import { Errno, Eventtype, SUBCLOCKFLAGS_ABSTIME } from "../constants.ts";
import { fail } from "./context.ts";
import { FUEL_PER_SUBSCRIPTION } from "../cost.ts";
import type { HostContext, SyscallTable } from "./context.ts";
import { stdinAvailable } from "./context.ts";
import type { StdinSource } from "./context.ts";

/** Most subscriptions one poll_oneoff may pass (EINVAL beyond). */
const MAX_SUBSCRIPTIONS = 1024;
/** Size of a WASI subscription record. */
const SUBSCRIPTION_BYTES = 48;
/** Size of a WASI event record. */
const EVENT_BYTES = 32;

interface PollEvent {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
}
interface ClockWait {
  userdata: bigint;
  deadline: bigint;
  clock: number;
}

/** What one poll_oneoff is waiting for: clocks, and reads of a lazy stdin that has nothing yet. */
interface Waits {
  clocks: ClockWait[];
  stdin: bigint[];
}

/**
 * Reads one subscription: an fd event is ready at once (files, stdout, stderr, a bytes stdin, a
 * lazy stdin with bytes or at its end), a clock or a lazy stdin with nothing yet joins `waits`.
 */
function subscribe(h: HostContext, s: number, ready: PollEvent[], waits: Waits): void {
  const m = h.m;
  const userdata = m.u64At(s);
  const tag = m.u8At(s + 8);
  if (tag === Eventtype.CLOCK) {
    const clock = m.u32At(s + 16);
    const timeout = m.u64At(s + 24);
    const flags = m.u16At(s + 40);
    let now: bigint;
    try {
      now = h.clockNow(clock);
    } catch {
      ready.push({ userdata, error: Errno.INVAL, type: tag, nbytes: 0n });
      return;
    }
    waits.clocks.push({ userdata, clock, deadline: flags & SUBCLOCKFLAGS_ABSTIME ? timeout : now + timeout });
  } else if (tag === Eventtype.FD_READ || tag === Eventtype.FD_WRITE) {
    const fd = h.fds.get(m.u32At(s + 16));
    if (fd?.kind === "stdin" && tag === Eventtype.FD_READ && !stdinReadable(h.opts.stdin, 0)) {
      waits.stdin.push(userdata);
      return;
    }
    let nbytes = 0n;
    if (fd?.kind === "stdin") nbytes = BigInt(stdinAvailable(h.opts.stdin, fd.pos));
    else if (fd?.kind === "file" && tag === Eventtype.FD_READ) {
      nbytes = BigInt(Math.max(0, fd.node.size - fd.pos));
    }
    ready.push({ userdata, error: fd === undefined ? Errno.BADF : 0, type: tag, nbytes });
  } else {
    fail(Errno.INVAL);
  }
}

/** A lazy stdin that is readable within `timeoutMs` (a bytes stdin always is: data or its end). */
function stdinReadable(stdin: Uint8Array | StdinSource, timeoutMs: number): boolean {
  return stdin instanceof Uint8Array || stdin.readable(timeoutMs);
}

/**
 * Waits until stdin (if subscribed) is readable or the earliest clock fires, then adds stdin's
 * events, or every clock that has fired (at least the earliest). The run's deadline bounds it all.
 */
function waitForEvents(h: HostContext, waits: Waits, ready: PollEvent[]): void {
  const { clocks } = waits;
  const lefts = clocks.map((c) => c.deadline - h.clockNow(c.clock));
  const shortest = lefts.length === 0 ? undefined : lefts.reduce((a, b) => (b < a ? b : a));
  const waitMs = shortest === undefined ? Infinity : Math.max(0, Number(shortest) / 1e6);
  if (waits.stdin.length > 0) {
    if (stdinReadable(h.opts.stdin, waitMs)) {
      const nbytes = BigInt(stdinAvailable(h.opts.stdin, 0));
      for (const userdata of waits.stdin) ready.push({ userdata, error: 0, type: Eventtype.FD_READ, nbytes });
      return;
    }
  } else if (waitMs > 0) {
    h.opts.sleep(waitMs);
  }
  for (const c of clocks) {
    if (h.clockNow(c.clock) >= c.deadline || c === clocks[lefts.indexOf(shortest!)]) {
      ready.push({ userdata: c.userdata, error: 0, type: Eventtype.CLOCK, nbytes: 0n });
    }
  }
}

function pollOneoff(h: HostContext, inPtr: number, outPtr: number, nsubs: number, neventsPtr: number): void {
  const m = h.m;
  const count = nsubs >>> 0;
  if (count === 0 || count > MAX_SUBSCRIPTIONS) fail(Errno.INVAL);
  m.check(inPtr, count * SUBSCRIPTION_BYTES);
  m.check(outPtr, count * EVENT_BYTES);
  m.check(neventsPtr, 4);
  h.charge(count * FUEL_PER_SUBSCRIPTION);
  const ready: PollEvent[] = [];
  const waits: Waits = { clocks: [], stdin: [] };
  for (let i = 0; i < count; i++) subscribe(h, inPtr + i * SUBSCRIPTION_BYTES, ready, waits);
  if (ready.length === 0) waitForEvents(h, waits, ready);
  ready.forEach((ev, i) => {
    const e = outPtr + i * EVENT_BYTES;
    m.bytes(e, EVENT_BYTES).fill(0);
    m.setU64(e, ev.userdata);
    m.setU16(e + 8, ev.error);
    m.setU8(e + 10, ev.type);
    m.setU64(e + 16, ev.nbytes);
  });
  m.setU32(neventsPtr, ready.length);
}

export const pollSyscalls: SyscallTable = {
  poll_oneoff: pollOneoff,
  sock_accept: () => Errno.NOTSUP,
  sock_recv: () => Errno.NOTSUP,
  sock_send: () => Errno.NOTSUP,
  sock_shutdown: () => Errno.NOTSUP,
};
