/**
 * A fixed number of slots taken in turn: the scrubs a server runs at once (each takes a core per
 * worker thread). A caller waits for a slot instead of being refused, up to `maxWaiting` callers;
 * past that the server is busy and says so.
 */
export class SlotsFull extends Error {
  readonly statusCode = 429;
  constructor(running: number, waiting: number) {
    super(`This server is running ${running} scrubs, as many as it runs at once (OPTLINE_SCRUBS_AT_ONCE), and ${waiting} more are waiting; retry when one has finished.`);
  }
}

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

  /** Resolves with the function that gives the slot back (once; later calls do nothing); throws when full. */
  async take(): Promise<() => void> {
    if (this.active >= this.size() || this.waiting.length > 0) {
      if (this.waiting.length >= this.maxWaiting()) throw new SlotsFull(this.active, this.waiting.length);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.active++;
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
