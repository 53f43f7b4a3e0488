import { describe, expect, it } from 'vitest';
import { PromptRun } from './prompt.js';
import type { PromptEvent } from './types.js';

const started: PromptEvent = { type: 'started', promptId: 'p' };
const done: PromptEvent = { type: 'done', promptId: 'p', outputs: {} };

describe('PromptRun', () => {
  it('hands events emitted before any subscriber to the first one only', () => {
    const run = new PromptRun('p', 1, {});
    run.emit({ type: 'queued', promptId: 'p', number: 1 });
    const first: string[] = [];
    const second: string[] = [];
    run.subscribe((e) => first.push(e.type));
    run.subscribe((e) => second.push(e.type));
    run.emit(started);
    expect(first).toEqual(['queued', 'started']);
    expect(second).toEqual(['started']);
  });

  it('ends exactly once: later events and terminals are dropped', async () => {
    const run = new PromptRun('p', 1, {});
    const seen: string[] = [];
    run.subscribe((e) => seen.push(e.type));
    run.emit(done);
    run.emit({ type: 'failed', promptId: 'p', reason: { kind: 'lost', message: 'x' } });
    run.emit(started);
    expect(seen).toEqual(['done']);
    await expect(run.finished).resolves.toBe(done);
    expect(run.ended).toBe(true);
  });

  it('iterates until the terminal event, across asynchronous emits', async () => {
    const run = new PromptRun('p', 1, {});
    const collected = (async () => {
      const types: string[] = [];
      for await (const e of run) types.push(e.type);
      return types;
    })();
    await Promise.resolve();
    run.emit(started);
    setImmediate(() => run.emit(done));
    await expect(collected).resolves.toEqual(['started', 'done']);
  });

  it('stops delivering to an unsubscribed listener and to an iterator left early', async () => {
    const run = new PromptRun('p', 1, {});
    const seen: string[] = [];
    const off = run.subscribe((e) => seen.push(e.type));
    off();
    run.emit(started);
    expect(seen).toEqual([]);
    const it = run[Symbol.asyncIterator]();
    await it.return?.();
    run.emit(done);
    await expect(it.next()).resolves.toEqual({ done: true, value: undefined });
  });
});
