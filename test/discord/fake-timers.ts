// Fake timers around every test of a file, for code paced by timers (bottleneck, the card editor's throttles).
import { afterEach, beforeEach, vi } from 'vitest';

/** Installs fake timers before each test and restores real ones after; the accessor gives the fake clock's start (epoch ms) in the current test. */
export function useFakeTimers(): () => number {
  let startedAt = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    startedAt = Date.now();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return () => startedAt;
}
