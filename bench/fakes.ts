// A pool of fake ComfyUI servers in the bench's own process, with the moments the system under test cannot see:
// when each sampler step's preview frame left the server, and when each prompt finished (execution_success).
import { now } from './ipc.js';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../test/fakes/comfy/index.js';

export interface ComfyPool {
  fakes: FakeComfy[];
  backends: { name: string; url: string }[];
  /** promptId → send time of the preview frame of step k at index k-1. */
  stepTimes: Map<string, number[]>;
  /** promptId → when the server finished it. */
  doneTimes: Map<string, number>;
  close(): Promise<void>;
}

export async function startComfyPool(count: number, options: FakeComfyOptions): Promise<ComfyPool> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a pool needs a positive whole number of servers, got ${count}`);
  const fakes: FakeComfy[] = [];
  const stepTimes = new Map<string, number[]>();
  const doneTimes = new Map<string, number>();
  const close = async () => {
    await Promise.allSettled(fakes.map((f) => f.close()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const fake = await startFakeComfy({ objectInfo: 'core', ...options });
      fakes.push(fake);
      // emitted right after the step's preview frame was handed to the socket
      fake.events.on('step', (promptId, _node, value) => {
        const times = stepTimes.get(promptId) ?? [];
        times[value - 1] = now();
        stepTimes.set(promptId, times);
      });
      fake.events.on('prompt-done', (promptId) => doneTimes.set(promptId, now()));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { fakes, backends: fakes.map((f, i) => ({ name: `gpu${i + 1}`, url: f.url })), stepTimes, doneTimes, close };
}
