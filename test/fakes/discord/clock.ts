/** The fake's notion of "now", used for the 3 s acknowledgement deadline, the 15 min token life and timestamps. */
export interface Clock {
  now(): number;
}

/** A clock that only moves when told to, so token expiry can be tested without waiting. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ManualClock.advance: ms must be a finite number >= 0, got ${ms}`);
    this.#now += ms;
  }
}

export const systemClock: Clock = { now: () => Date.now() };
