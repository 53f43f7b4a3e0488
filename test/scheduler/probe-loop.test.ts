import { describe, expect, it } from 'vitest';
import { ProbeLoop } from '../../src/scheduler/probe-loop.js';
import { ManualClock } from './manual-clock.js';

function setup() {
  const clock = new ManualClock();
  let calls = 0;
  let release: (() => void) | undefined;
  const loop = new ProbeLoop({
    clock,
    intervalMs: 10_000,
    probeOnce: () => {
      calls += 1;
      return new Promise<void>((resolve) => (release = resolve));
    },
  });
  return { clock, loop, calls: () => calls, finish: () => release?.() };
}

describe('ProbeLoop', () => {
  it('shares one probe between concurrent callers and schedules the next after it', async () => {
    const { clock, loop, calls, finish } = setup();
    const first = loop.start();
    const second = loop.probe();
    expect(second).toBe(first);
    finish();
    await first;
    expect(calls()).toBe(1);
    clock.advance(9_999);
    expect(calls()).toBe(1);
    clock.advance(1);
    expect(calls()).toBe(2);
  });

  it('lets the backend move the next probe (a Retry-After rest)', async () => {
    const { clock, loop, calls, finish } = setup();
    const first = loop.start();
    finish();
    await first;
    loop.schedule(30_000);
    clock.advance(10_000);
    expect(calls()).toBe(1);
    clock.advance(20_000);
    expect(calls()).toBe(2);
  });

  it('probes nothing and schedules nothing once stopped', async () => {
    const { clock, loop, calls, finish } = setup();
    const first = loop.start();
    finish();
    await first;
    loop.stop();
    expect(loop.stopped).toBe(true);
    expect(clock.pending).toBe(0);
    await loop.probe();
    loop.schedule(1_000);
    clock.advance(60_000);
    expect(calls()).toBe(1);
  });
});
