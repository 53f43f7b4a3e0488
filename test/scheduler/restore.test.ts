import { describe, expect, it } from 'vitest';
import { specFromSnapshot } from '../../src/jobs/job.js';
import { BackendDouble } from './backend-double.js';
import { setup, spec } from './helpers.js';

describe('restore after a restart', () => {
  it('adopts in-flight prompts on their backend and queues the rest in their order', async () => {
    const gpu1 = new BackendDouble('gpu1');
    const { scheduler, clock } = setup({ backends: [gpu1] });
    const [adopted, q1, q2] = scheduler.restore({
      inFlight: [{ spec: spec('a', { id: 'job-a' }), backend: 'gpu1', promptId: 'prompt-a', attempt: 1, dispatchedAt: clock.now(), startedAt: null }],
      queued: [spec('b', { id: 'job-b' }), spec('c', { id: 'job-c' })],
    });
    expect(adopted!.state).toBe('dispatched');
    expect(adopted!.promptId).toBe('prompt-a');
    expect([q1!.state, q2!.state]).toEqual(['queued', 'queued']);
    const run = await gpu1.running(0);
    expect(run.promptId).toBe('prompt-a');
    run.emit({ type: 'progress', node: '3', value: 1, max: 2 });
    expect(adopted!.state).toBe('running');
    run.succeed();
    await expect(adopted!.done).resolves.toBe('succeeded');
    expect((await gpu1.running(1)).spec.id).toBe('job-b');
  });

  it('requeues an in-flight job whose backend is gone from the config', async () => {
    const { scheduler, gpu, clock } = setup();
    const [job] = scheduler.restore({
      inFlight: [{ spec: spec('a'), backend: 'old-gpu', promptId: 'p', attempt: 1, dispatchedAt: clock.now(), startedAt: null }],
      queued: [],
    });
    const run = await gpu.running(0);
    expect(run.spec.id).toBe(job!.id);
    expect(job!.attempt).toBe(2);
  });

  it('rebuilds a queued job from its snapshot', async () => {
    const { scheduler, gpu } = setup();
    scheduler.pause();
    const original = scheduler.submit(spec('a', { params: { seed: 7 } }));
    const snap = JSON.parse(JSON.stringify(original.snapshot()));
    const other = setup();
    const [restored] = other.scheduler.restore({ queued: [specFromSnapshot(snap)], inFlight: [] });
    expect(restored!.id).toBe(original.id);
    expect((await other.gpu.running(0)).spec.params).toEqual({ seed: 7 });
    expect(gpu.runs).toHaveLength(0);
  });
  it('counts the time an adopted run already spent against its time limit', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    const startedAt = clock.now() - 45_000;
    const [job] = scheduler.restore({
      inFlight: [{ spec: spec('a'), backend: 'gpu1', promptId: 'p-a', attempt: 1, dispatchedAt: startedAt - 5_000, startedAt }],
      queued: [],
    });
    const run = await gpu.running(0);
    run.emit({ type: 'progress', node: '3', value: 1, max: 2 });
    // The start time from before the restart is kept (ETAs and run-time averages use it).
    expect(job!.snapshot().startedAt).toBe(startedAt);
    clock.advance(9_999);
    expect(gpu.cancels).toEqual([]);
    clock.advance(1);
    expect(gpu.cancels).toEqual(['p-a']);
    await expect(job!.done).resolves.toBe('failed');
    expect(job!.error).toBe('took longer than 60 s and was stopped');
  });

  it('stops at once an adopted run already past its time limit', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    const [job] = scheduler.restore({
      inFlight: [{ spec: spec('a'), backend: 'gpu1', promptId: 'p-a', attempt: 1, dispatchedAt: clock.now() - 3_600_000, startedAt: null }],
      queued: [],
    });
    await gpu.running(0);
    clock.advance(0);
    expect(gpu.cancels).toEqual(['p-a']);
    await expect(job!.done).resolves.toBe('failed');
  });

  it('never gives an adopted run more than the whole limit, even with a stored time in the future', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    scheduler.restore({
      inFlight: [{ spec: spec('a'), backend: 'gpu1', promptId: 'p-a', attempt: 1, dispatchedAt: clock.now() + 3_600_000, startedAt: null }],
      queued: [],
    });
    await gpu.running(0);
    clock.advance(59_999);
    expect(gpu.cancels).toEqual([]);
    clock.advance(1);
    expect(gpu.cancels).toEqual(['p-a']);
  });
});
