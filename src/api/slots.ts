/**
 * A fixed number of slots taken in turn: the scrubs a server runs at once (each takes a core per
 * worker thread). A scrub's place in the line is reserved when its list starts to arrive and
 * turned into a wait for a slot once it has arrived: up to `maxWaiting` lists may be arriving or
 * waiting beyond the running ones; past that the server is busy and says so before the upload,
 * never after it.
 */
export class SlotsFull extends Error {
  readonly statusCode = 429;
  constructor(running: number, waiting: number) {
    super(`This server is running ${running} scrubs, as many as it runs at once (OPTLINE_SCRUBS_AT_ONCE), and ${waiting} more are arriving or waiting; retry when one has finished.`);
  }
}

/** A place in the line, reserved before the list arrives. */
export interface Reservation {
  /** Waits for a slot (in line order); resolves with the function that gives it back. */
  take(signal?: AbortSignal): Promise<() => void>;
  /** Gives the place up without taking a slot (the upload failed). */
  cancel(): void;
}

export class Slots {
  private active = 0;
  private reserved = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly size: () => number,
    private readonly maxWaiting: () => number,
  ) {}

  get running(): number {
    return this.active;
  }

  /** Lists arriving or waiting for a slot. */
  get queued(): number {
    return this.reserved + this.waiting.length;
  }

  /** Whether a new list now would have to be refused. */
  get full(): boolean {
    return this.active >= this.size() && this.queued >= this.maxWaiting();
  }

  /** A place in the line, or SlotsFull. */
  reserve(): Reservation {
    if (this.full) throw new SlotsFull(this.active, this.queued);
    this.reserved++;
    let open = true;
    const leave = (): boolean => {
      if (!open) return false;
      open = false;
      this.reserved--;
      return true;
    };
    return {
      take: async (signal) => {
        if (!leave()) throw new Error('This place in the line was used already.');
        if (this.active >= this.size() || this.waiting.length > 0) {
          await new Promise<void>((resolve, reject) => {
            const turn = (): void => {
              signal?.removeEventListener('abort', gone);
              resolve();
            };
            // Whoever waits no more leaves the line (a client that went away).
            const gone = (): void => {
              const i = this.waiting.indexOf(turn);
              if (i >= 0) this.waiting.splice(i, 1);
              reject(signal?.reason ?? new Error('aborted'));
            };
            if (signal?.aborted) return gone();
            signal?.addEventListener('abort', gone, { once: true });
            this.waiting.push(turn);
          });
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
      },
      cancel: () => void leave(),
    };
  }
}
