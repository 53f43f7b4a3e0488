// What a job says while its backend is down, and how long a queued job waits for one (OutageWatch), on a manual clock.
import { describe, expect, it } from 'vitest';
import type { Job, JobWait } from '../../src/jobs/job.js';
import { UnavailableError } from '../../src/scheduler/errors.js';
import { BackendDouble } from './backend-double.js';
import { setup, spec, withModel } from './helpers.js';

/** Every wait the job announced, in order. */
function waits(job: Job): (JobWait | null)[] {
  const seen: (JobWait | null)[] = [];
  job.on('wait', (w) => seen.push(w));
  return seen;
}

function down(name: string, opts: ConstructorParameters<typeof BackendDouble>[1] = {}): BackendDouble {
  const b = new BackendDouble(name, opts);
  b.healthy = false;
  return b;
}

describe('a job whose backend goes away', () => {
  it('says so once the backend has been down for the notice time, and stops saying so when it is back', async () => {
    const { scheduler, gpu, clock } = setup({ outageNoticeMs: 3_000 });
    const job = scheduler.submit(spec('a'));
    const seen = waits(job);
    const run = await gpu.running(0);
    run.start();
    const downAt = clock.now();
    gpu.setHealthy(false);
    clock.advance(2_999);
    expect(job.wait).toBeNull();
    clock.advance(1);
    expect(job.wait).toEqual({ reason: 'backend-unreachable', backend: 'gpu1', since: downAt });
    gpu.setHealthy(true);
    expect(job.wait).toBeNull();
    // The prompt was still running there (adopted on reconnect): it finishes where it was.
    run.emit({ type: 'progress', node: '3', value: 5, max: 20 });
    run.succeed();
    await expect(job.done).resolves.toBe('succeeded');
    expect(seen).toEqual([{ reason: 'backend-unreachable', backend: 'gpu1', since: downAt }, null]);
  });

  it('says nothing about a blip shorter than the notice time', async () => {
    const { scheduler, gpu, clock } = setup({ outageNoticeMs: 3_000 });
    const job = scheduler.submit(spec('a'));
    const seen = waits(job);
    const run = await gpu.running(0);
    gpu.setHealthy(false);
    clock.advance(2_000);
    gpu.setHealthy(true);
    clock.advance(10_000);
    run.succeed();
    await expect(job.done).resolves.toBe('succeeded');
    expect(seen).toEqual([]);
  });

  it('restarted without the prompt: the job is submitted again there once it is back, and the notice ends', async () => {
    const { scheduler, gpu, clock } = setup({ outageNoticeMs: 3_000 });
    const job = scheduler.submit(spec('a'));
    const seen = waits(job);
    const retries: string[] = [];
    job.on('retry', (r) => retries.push(r.backend));
    (await gpu.running(0)).start();
    gpu.setHealthy(false);
    clock.advance(3_000);
    expect(job.wait?.reason).toBe('backend-unreachable');
    gpu.setHealthy(true);
    (await gpu.running(0)).end({ type: 'lost', message: 'ComfyUI restarted and no longer has the prompt' });
    const again = await gpu.running(1);
    expect(job.state).toBe('dispatched');
    expect(job.wait).toBeNull();
    again.succeed();
    await expect(job.done).resolves.toBe('succeeded');
    expect(retries).toEqual(['gpu1']);
    expect(seen.at(-1)).toBeNull();
  });

  it('moved to another backend once its own is declared lost', async () => {
    const gpu2 = new BackendDouble('gpu2');
    const gpu1 = new BackendDouble('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu1, gpu2], outageNoticeMs: 3_000 });
    const job = scheduler.submit(spec('a'));
    const busy = scheduler.submit(spec('x'));
    const onGpu1 = await gpu1.running(0);
    expect(onGpu1.spec.id).toBe(job.id);
    gpu1.setHealthy(false);
    clock.advance(3_000);
    expect(job.wait).toMatchObject({ reason: 'backend-unreachable', backend: 'gpu1' });
    (await gpu2.running(0)).succeed();
    await expect(busy.done).resolves.toBe('succeeded');
    // gpu1's LostRunWatch gives up on the run: the job goes to gpu2, and its card no longer says it waits.
    onGpu1.end({ type: 'lost', message: 'it has been unreachable for 60 s' });
    const moved = await gpu2.running(1);
    expect(moved.spec.id).toBe(job.id);
    expect(job.wait).toBeNull();
    expect(job.backend).toBe('gpu2');
    moved.succeed();
    await expect(job.done).resolves.toBe('succeeded');
  });
});

describe('a job submitted while every backend is down', () => {
  it('is accepted, says it waits (with its deadline), and is dispatched when a backend comes back', async () => {
    const gpu = down('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu], outageNoticeMs: 3_000, waitForBackendMs: 600_000 });
    clock.advance(60_000);
    const job = scheduler.submit(spec('a'));
    expect(job.state).toBe('queued');
    expect(job.wait).toEqual({ reason: 'no-backend', since: job.createdAt, until: job.createdAt + 600_000 });
    clock.advance(300_000);
    gpu.setHealthy(true);
    const run = await gpu.running(0);
    expect(run.spec.id).toBe(job.id);
    expect(job.wait).toBeNull();
    run.succeed();
    await expect(job.done).resolves.toBe('succeeded');
  });

  it('fails with the reason once it has waited jobs.waitForBackendSeconds', async () => {
    const gpu = down('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu], outageNoticeMs: 3_000, waitForBackendMs: 120_000 });
    clock.advance(3_000);
    const job = scheduler.submit(spec('a'));
    const other = scheduler.submit(spec('b'));
    clock.advance(119_999);
    expect(job.state).toBe('queued');
    clock.advance(1);
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('all backends are down: no ComfyUI server able to run it came back within 2 minutes');
    await expect(other.done).resolves.toBe('failed');
    expect(scheduler.jobs()).toEqual([]);
    // The backend coming back later finds nothing to run.
    gpu.setHealthy(true);
    expect(gpu.runs).toEqual([]);
  });

  it('a job that waited its turn before the outage gets the whole wait from when the last backend went down', async () => {
    const { scheduler, gpu, clock } = setup({ outageNoticeMs: 3_000, waitForBackendMs: 120_000, timeoutSeconds: 3_600 });
    const first = scheduler.submit(spec('a'));
    const second = scheduler.submit(spec('b'));
    clock.advance(600_000);
    const downAt = clock.now();
    gpu.setHealthy(false);
    clock.advance(3_000);
    expect(second.wait).toEqual({ reason: 'no-backend', since: downAt, until: downAt + 120_000 });
    clock.advance(116_999);
    expect(second.state).toBe('queued');
    clock.advance(1);
    await expect(second.done).resolves.toBe('failed');
    // The running job is held by its backend (its LostRunWatch decides), not by the wait.
    expect(first.state).toBe('dispatched');
    expect(first.wait?.reason).toBe('backend-unreachable');
  });

  it('is still refused at once when no backend, up or down, has what it needs', () => {
    const gpu = down('gpu1', { models: ['sd15.safetensors'] });
    const { scheduler } = setup({ backends: [gpu] });
    expect(() => scheduler.submit(withModel('a', 'sdxl.safetensors'))).toThrow(UnavailableError);
    expect(() => scheduler.submit(withModel('a', 'sdxl.safetensors'))).toThrow('no backend can run this: model sdxl.safetensors is not installed on any backend');
  });

  it('waits when a backend never reached has an unknown inventory, and is failed if that inventory lacks what it needs', async () => {
    const known = down('known', { models: ['sd15.safetensors'] });
    const unknown = down('unknown');
    unknown.inventory = undefined;
    const { scheduler, clock } = setup({ backends: [known, unknown], outageNoticeMs: 3_000 });
    clock.advance(3_000);
    const job = scheduler.submit(withModel('a', 'sdxl.safetensors'));
    expect(job.wait?.reason).toBe('no-backend');
    unknown.setInventory({ nodeClasses: known.inventory!.nodeClasses, models: new Set(['sd15.safetensors']), folders: new Map([['checkpoints', ['sd15.safetensors']]]) });
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('no backend can run this: model sdxl.safetensors is not installed on any backend');
  });

  it('waits on the backends able to run it: one that is up but lacks its model does not end the wait', async () => {
    const xl = down('xl', { models: ['sdxl.safetensors'] });
    const plain = new BackendDouble('plain');
    const { scheduler, clock } = setup({ backends: [xl, plain], outageNoticeMs: 3_000 });
    clock.advance(3_000);
    const job = scheduler.submit(withModel('a', 'sdxl.safetensors'));
    expect(job.wait?.reason).toBe('no-backend');
    const plainJob = scheduler.submit(spec('b'));
    expect(plainJob.wait).toBeNull();
    xl.setHealthy(true);
    expect((await xl.running(0)).spec.id).toBe(job.id);
    expect(job.wait).toBeNull();
  });

  it('a restored queued job waits again after a restart, its wait counted from the restart', async () => {
    const gpu = down('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu], outageNoticeMs: 3_000, waitForBackendMs: 120_000 });
    const startedAt = clock.now();
    const [job] = scheduler.restore({ queued: [{ ...spec('a'), id: 'job-1' }], inFlight: [] });
    expect(job!.wait).toBeNull();
    clock.advance(3_000);
    expect(job!.wait).toEqual({ reason: 'no-backend', since: startedAt, until: startedAt + 120_000 });
    gpu.setHealthy(true);
    expect((await gpu.running(0)).spec.id).toBe('job-1');
  });

  it('cancelling a waiting job clears its deadline', async () => {
    const gpu = down('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu], outageNoticeMs: 3_000, waitForBackendMs: 120_000 });
    clock.advance(3_000);
    const job = scheduler.submit(spec('a'));
    await scheduler.cancel(job.id, { userId: 'a', isModerator: false });
    clock.advance(200_000);
    expect(job.state).toBe('cancelled');
    expect(clock.pending).toBe(0);
  });
});
