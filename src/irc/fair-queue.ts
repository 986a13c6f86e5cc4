/**
 * The bot's fair queue of requests: one FIFO per requester, and the next request taken is the
 * first of the requester served least (then the one waiting longest), among requesters under
 * their concurrency. One user's backlog therefore delays another user's first request by at most
 * one evaluation. Pure: the caller says who may run.
 */

/**
 * What the queue needs of a job: its requester's key and when it was queued.
 *
 * @example
 * ```ts
 * const j: FairJob = { key: "@home.example", queuedAt: 0 };
 * ```
 */
export interface FairJob {
  key: string;
  queuedAt: number;
}

/**
 * Requests by requester, served least-served first.
 *
 * @example
 * ```ts
 * const q = new FairQueue<FairJob>();
 * q.push({ key: "@a", queuedAt: 0 });
 * q.next(() => true); // { key: "@a", queuedAt: 0 }
 * ```
 */
export class FairQueue<J extends FairJob> {
  #queues = new Map<string, J[]>();
  #served = new Map<string, number>();
  #size = 0;

  /** Jobs waiting. */
  get size(): number {
    return this.#size;
  }

  /** Queues a job behind its requester's others. */
  push(job: J): void {
    const q = this.#queues.get(job.key) ?? [];
    q.push(job);
    this.#queues.set(job.key, q);
    this.#size++;
  }

  /** Whether the requester has jobs waiting. */
  has(key: string): boolean {
    return this.#queues.has(key);
  }

  /** Every waiting job (for updates such as a nick change). */
  *jobs(): Generator<J> {
    for (const q of this.#queues.values()) yield* q;
  }

  /** Removes and returns the waiting jobs `drop` selects (e.g. those of a requester who left). */
  removeWhere(drop: (job: J) => boolean): J[] {
    const out: J[] = [];
    for (const [key, q] of this.#queues) {
      const keep = q.filter((j) => !drop(j));
      if (keep.length === q.length) continue;
      for (const j of q) if (drop(j)) out.push(j);
      if (keep.length) this.#queues.set(key, keep);
      else this.#queues.delete(key);
    }
    this.#size -= out.length;
    return out;
  }

  /** The next job: of the requesters `mayRun` allows, the one served least (then the oldest). */
  next(mayRun: (key: string) => boolean): J | undefined {
    let best: J[] | undefined;
    let bestServed = Infinity;
    for (const [key, q] of this.#queues) {
      if (!mayRun(key)) continue;
      const served = this.#served.get(key) ?? 0;
      if (served < bestServed || (served === bestServed && q[0]!.queuedAt < best![0]!.queuedAt)) {
        best = q;
        bestServed = served;
      }
    }
    if (!best) return undefined;
    const job = best.shift()!;
    if (best.length === 0) this.#queues.delete(job.key);
    this.#size--;
    this.#served.set(job.key, bestServed + 1);
    return job;
  }

  /** The requester has nothing running or waiting: it starts afresh next time (the counts stay bounded). */
  idle(key: string): void {
    if (!this.#queues.has(key)) this.#served.delete(key);
  }

  /** Drops every waiting job. */
  clear(): void {
    this.#queues.clear();
    this.#size = 0;
  }
}
