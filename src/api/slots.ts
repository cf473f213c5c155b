/**
 * A fixed number of slots taken in turn: the scrubs a server runs at once (each takes a core per
 * worker thread). A caller waits for a slot instead of being refused, up to `maxWaiting` callers;
 * past that the server is busy and says so.
 */
export class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly size: () => number,
    private readonly maxWaiting: () => number,
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Whether a caller now would have to be refused. */
  get full(): boolean {
    return this.active >= this.size() && this.waiting.length >= this.maxWaiting();
  }

  /** Resolves with the function that gives the slot back (once; later calls do nothing). */
  async take(): Promise<() => void> {
    if (this.active >= this.size() || this.waiting.length > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line: `active` stays as it is.
      if (next) next();
      else this.active--;
    };
  }
}
