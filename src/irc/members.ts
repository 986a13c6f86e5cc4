/**
 * Who is on the channels we are in, from NAMES replies and JOIN/PART/KICK/QUIT/NICK, so the
 * client can tell whether a requester is still there: lines for someone who left are dropped,
 * and after a reconnect the "lines dropped" note goes only to people still present. Names are
 * kept lower-cased (the caller lower-cases under the server's case mapping). Pure.
 */

/** Status prefixes a NAMES reply may put before a nick (`@op`, `+voice`, ...). */
const NAMES_PREFIXES = /^[~&@%+!]+/;

/**
 * Channel members, one session (reset on reconnect).
 *
 * @example
 * ```ts
 * const m = new Members();
 * m.names("#py", ["@alice", "bob"]);
 * m.namesEnd("#py");
 * m.present("#py", "bob", true); // true
 * ```
 */
export class Members {
  #chans = new Map<string, Set<string>>();
  /** Channels whose member list is complete (end of NAMES seen). */
  #complete = new Set<string>();

  /** A NAMES reply's nicks (with their status prefixes). */
  names(chan: string, nicks: readonly string[]): void {
    let set = this.#chans.get(chan);
    if (!set) this.#chans.set(chan, set = new Set());
    for (const n of nicks) if (n) set.add(n.replace(NAMES_PREFIXES, ""));
  }

  /** End of NAMES: the channel's list is complete. */
  namesEnd(chan: string): void {
    if (!this.#chans.has(chan)) this.#chans.set(chan, new Set());
    this.#complete.add(chan);
  }

  /** Whether `chan`'s member list is complete. */
  isComplete(chan: string): boolean {
    return this.#complete.has(chan);
  }

  /** Someone joined a channel we are in. */
  joined(chan: string, nick: string): void {
    this.#chans.get(chan)?.add(nick);
  }

  /** Someone left a channel (PART, KICK); `self`: it was us, so the channel is forgotten. */
  left(chan: string, nick: string, self: boolean): void {
    if (self) {
      this.#chans.delete(chan);
      this.#complete.delete(chan);
    } else {
      this.#chans.get(chan)?.delete(nick);
    }
  }

  /** Someone quit the network. */
  quit(nick: string): void {
    for (const set of this.#chans.values()) set.delete(nick);
  }

  /** Someone changed nick. */
  renamed(from: string, to: string): void {
    for (const set of this.#chans.values()) if (set.delete(from)) set.add(to);
  }

  /** Forgets everything (a new connection). */
  clear(): void {
    this.#chans.clear();
    this.#complete.clear();
  }

  /**
   * Whether `nick` is in `target`: a channel (known once its NAMES ended), or for a private
   * target on any channel with us (known absent only when `allKnown`: every channel listed).
   * Undefined while it cannot be told yet.
   */
  present(target: string, nick: string, isChannel: boolean, allKnown = false): boolean | undefined {
    if (isChannel) return this.#complete.has(target) ? this.#chans.get(target)!.has(nick) : undefined;
    for (const set of this.#chans.values()) if (set.has(nick)) return true;
    return allKnown ? false : undefined;
  }
}
