// The scheduler keeps each backend's load as a count moved on dispatch and release instead of recounting its
// jobs: these tests follow the count through every way a job gives its slot back.
import { describe, expect, it, vi } from 'vitest';
import { BackendUnavailableError } from '../../src/scheduler/backend.js';
import { FairQueue } from '../../src/scheduler/fair-queue.js';
import { BackendDouble } from './backend-double.js';
import { setup, spec } from './helpers.js';

const owner = (userId: string) => ({ userId, isModerator: false });
const loads = (entries: [string, number][]) => new Map(entries);

describe('backend load counts', () => {
  it('follow a job lost on one backend, requeued, and run on another', async () => {
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler } = setup({ backends: [gpu1, gpu2] });
    const job = scheduler.submit(spec('a'));
    const blocker = scheduler.submit(spec('b'));
    expect(scheduler.loads()).toEqual(loads([['gpu1', 1], ['gpu2', 1]]));
    const lost = await gpu1.running(0);
    gpu1.setHealthy(false);
    lost.end({ type: 'lost', message: 'restarted' });
    await new Promise<void>((resolve) => job.once('retry', () => resolve()));
    expect(job.state).toBe('queued');
    expect(scheduler.loads()).toEqual(loads([['gpu1', 0], ['gpu2', 1]]));
    (await gpu2.running(0)).succeed();
    await blocker.done;
    expect(job.backend).toBe('gpu2');
    expect(scheduler.loads()).toEqual(loads([['gpu1', 0], ['gpu2', 1]]));
    gpu1.setHealthy(true);
    const late = scheduler.submit(spec('c'));
    expect(late.backend).toBe('gpu1');
    (await gpu2.running(1)).succeed();
    (await gpu1.running(1)).succeed();
    await Promise.all([job.done, late.done]);
    expect(scheduler.loads()).toEqual(loads([['gpu1', 0], ['gpu2', 0]]));
  });

  it('give the slot back exactly once whichever way a cancel lands', async () => {
    const { scheduler, gpu } = setup({ limits: { perUserRunning: 4 } });
    // Queued: never held a slot.
    const running = scheduler.submit(spec('a'));
    const queued = scheduler.submit(spec('b'));
    await expect(scheduler.cancel(queued.id, owner('b'))).resolves.toBe('cancelled');
    expect(scheduler.loads().get('gpu1')).toBe(1);
    // Running: interrupted.
    (await gpu.running(0)).start();
    await expect(scheduler.cancel(running.id, owner('a'))).resolves.toBe('cancelled');
    expect(scheduler.loads().get('gpu1')).toBe(0);
    // Pending in ComfyUI: dequeued.
    const pending = scheduler.submit(spec('a'));
    await gpu.running(1);
    await expect(scheduler.cancel(pending.id, owner('a'))).resolves.toBe('cancelled');
    expect(scheduler.loads().get('gpu1')).toBe(0);
    // Finished while the cancel was on its way: the run's own end frees the slot, the cancel does not again.
    const racing = scheduler.submit(spec('a'));
    const run = await gpu.running(2);
    run.start();
    run.succeed();
    await expect(scheduler.cancel(racing.id, owner('a'))).resolves.toBe('succeeded');
    expect(scheduler.loads().get('gpu1')).toBe(0);
    // The freed slot is usable: the next job is dispatched at once.
    expect(scheduler.submit(spec('c')).backend).toBe('gpu1');
    expect(scheduler.loads().get('gpu1')).toBe(1);
  });

  it('free the slot of a submit that could not reach its backend, so each retry can take it again', async () => {
    const { scheduler, gpu } = setup({ maxTries: 3 });
    let attempts = 0;
    gpu.beforeSubmit = async () => {
      attempts += 1;
      throw new BackendUnavailableError('gpu1', 'connection refused');
    };
    const job = scheduler.submit(spec('a'));
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('gave up after 3 tries: backend gpu1: connection refused');
    expect(attempts).toBe(3);
    expect(scheduler.loads().get('gpu1')).toBe(0);
  });

  it('count adopted in-flight jobs against their backend’s capacity and its drain', async () => {
    const { scheduler, gpu, clock } = setup();
    const [adopted, waiting] = scheduler.restore({
      inFlight: [{ spec: spec('a'), backend: 'gpu1', promptId: 'p-a', attempt: 1, dispatchedAt: clock.now(), startedAt: null }],
      queued: [spec('b')],
    });
    expect(waiting!.state).toBe('queued');
    expect(scheduler.loads().get('gpu1')).toBe(1);
    let drained = false;
    const drain = scheduler.drainBackend('gpu1').then(() => (drained = true));
    const run = await gpu.running(0);
    expect(drained).toBe(false);
    run.succeed();
    await drain;
    expect(adopted!.state).toBe('succeeded');
    expect(scheduler.loads().get('gpu1')).toBe(0);
    expect(waiting!.state).toBe('queued');
    scheduler.resumeBackend('gpu1');
    expect(waiting!.backend).toBe('gpu1');
  });
});

describe('where a waiting job may run', () => {
  const withInput = (userId: string, value: string) =>
    spec(userId, { workflow: { ...spec(userId).workflow, '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: value } } } });

  it('is worked out again when an inventory changes, including model names that become known', async () => {
    const plain = new BackendDouble('plain');
    const tuned = new BackendDouble('tuned');
    const { scheduler } = setup({ backends: [plain, tuned] });
    const onPlain = scheduler.submit(spec('x'));
    const onTuned = scheduler.submit(spec('y'));
    // No backend lists "house-style" yet and it has no model extension: it is not a requirement.
    const job = scheduler.submit(withInput('a', 'house-style'));
    tuned.setInventory({ nodeClasses: tuned.inventory!.nodeClasses, models: new Set(['house-style']), folders: new Map() });
    (await plain.running(0)).succeed();
    await onPlain.done;
    expect(job.state).toBe('queued');
    (await tuned.running(0)).succeed();
    await onTuned.done;
    expect(job.backend).toBe('tuned');
  });

  it('opens a backend whose inventory gains the model a waiting job needs', async () => {
    const plain = new BackendDouble('plain');
    const xl = new BackendDouble('xl', { models: ['sdxl.safetensors'] });
    const { scheduler } = setup({ backends: [plain, xl] });
    scheduler.submit(withInput('x', 'sdxl.safetensors'));
    const job = scheduler.submit(withInput('a', 'sdxl.safetensors'));
    expect(job.state).toBe('queued');
    plain.setInventory({ nodeClasses: plain.inventory!.nodeClasses, models: new Set(['sdxl.safetensors']), folders: new Map() });
    expect(job.backend).toBe('plain');
  });
});

describe('a dispatch pass', () => {
  it('does not look at the waiting jobs while no backend has a free slot', async () => {
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler } = setup({ backends: [gpu1, gpu2] });
    const take = vi.spyOn(FairQueue.prototype, 'take');
    try {
      scheduler.submit(spec('a'));
      scheduler.pauseBackend('gpu2');
      take.mockClear();
      // gpu1 is full and gpu2 paused: these submissions and a down/up flap must not walk the queue.
      for (const user of ['b', 'c', 'd', 'e']) scheduler.submit(spec(user));
      gpu2.setHealthy(false);
      gpu2.setHealthy(true);
      expect(take).not.toHaveBeenCalled();
      scheduler.resumeBackend('gpu2');
      expect(take).toHaveBeenCalled();
      expect(scheduler.loads()).toEqual(loads([['gpu1', 1], ['gpu2', 1]]));
    } finally {
      take.mockRestore();
    }
  });
});
