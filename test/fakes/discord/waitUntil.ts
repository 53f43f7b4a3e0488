import type { EventEmitter } from 'node:events';

/**
 * Resolves with `check()`'s first truthy result, evaluated now and after each of `events`; rejects when `check`
 * throws or after timeoutMs (a real timer: it bounds a wait, it never paces a test).
 */
export function waitUntil<T>(
  emitter: EventEmitter,
  events: readonly string[],
  check: () => T | undefined | null | false,
  timeoutMs: number,
  timeoutMessage: () => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const evaluate = () => {
      let result: T | undefined | null | false;
      try {
        result = check();
      } catch (error) {
        cleanup();
        reject(error as Error);
        return;
      }
      if (result === undefined || result === null || result === false) return;
      cleanup();
      resolve(result);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(timeoutMessage()));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      for (const event of events) emitter.off(event, evaluate);
    };
    for (const event of events) emitter.on(event, evaluate);
    evaluate();
  });
}
