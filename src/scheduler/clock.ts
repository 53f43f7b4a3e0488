// Time as the scheduler sees it: injectable so tests drive limits, ETAs, probes and timeouts with fake clocks.

/** Whatever the clock's setTimeout returns; only ever handed back to its clearTimeout. */
export type TimerHandle = object;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Reads the global timers at call time, so `vi.useFakeTimers()` also drives it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // A pending probe or timeout must never keep the process alive on its own.
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
