// A clock that moves only when the test says so; timers fire in due order during advance().
import type { Clock, TimerHandle } from '../../src/scheduler/clock.js';

interface Timer {
  at: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private timers = new Set<Timer>();

  constructor(private current = Date.UTC(2026, 0, 1, 12, 0, 0)) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.current + Math.max(0, ms), fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as Timer);
  }

  /** Moves time forward, firing every timer due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due);
      this.current = due.at;
      due.fn();
    }
    this.current = end;
  }

  get pending(): number {
    return this.timers.size;
  }
}
