// The hard deadline: a run that does not end after its stop request (the server ignores the interrupt, or the
// submit never returns) is ended by the scheduler after a grace period, its slot freed, and its late end ignored.
import { describe, expect, it } from 'vitest';
import type { Job, StateChange } from '../../src/jobs/job.js';
import type { CancelResult } from '../../src/scheduler/backend.js';
import type { BackendDouble } from './backend-double.js';
import { setup, spec } from './helpers.js';

/** Every state the job moves to, in order. */
function states(job: Job): StateChange['state'][] {
  const out: StateChange['state'][] = [];
  job.on('state', (s) => out.push(s.state));
  return out;
}

/** The server answers the interrupt but never stops the prompt. */
function ignoreInterrupts(gpu: BackendDouble): void {
  gpu.cancel = async (promptId): Promise<CancelResult> => {
    gpu.cancels.push(promptId);
    return 'interrupted';
  };
}

/** Lets every promise callback already due run (no time passes on any clock). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the hard deadline after the time limit', () => {
  it('fails a run that ignores the interrupt once the grace period passes, and frees its slot', async () => {
    // 120 s limit: the grace is a quarter of it, 30 s.
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 120 });
    ignoreInterrupts(gpu);
    const job = scheduler.submit(spec('a'));
    const next = scheduler.submit(spec('b'));
    const moves = states(job);
    const run = await gpu.running(0);
    run.start();
    clock.advance(120_000);
    expect(gpu.cancels).toEqual([job.promptId]);
    await settled();
    clock.advance(29_999);
    expect(job.state).toBe('running');
    expect(scheduler.loads().get('gpu1')).toBe(1);
    clock.advance(1);
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('did not stop after its time limit of 2 minutes');
    expect(scheduler.loads().get('gpu1')).toBe(1);
    expect((await gpu.running(1)).spec.id).toBe(next.id);
    expect(moves).toEqual(['running', 'failed']);
  });

  it('never lets a late completion of the abandoned prompt deliver or change the final state', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    ignoreInterrupts(gpu);
    const job = scheduler.submit(spec('a'));
    let delivered = 0;
    job.on('outputs', () => (delivered += 1));
    const moves = states(job);
    const run = await gpu.running(0);
    run.start();
    clock.advance(60_000 + 15_000);
    await expect(job.done).resolves.toBe('failed');
    run.emit({ type: 'progress', node: '3', value: 5, max: 20 });
    run.succeed();
    await run.finished;
    await settled();
    expect(job.state).toBe('failed');
    expect(job.outputs).toBeNull();
    expect(delivered).toBe(0);
    expect(moves).toEqual(['running', 'failed']);
    expect(scheduler.jobs()).toEqual([]);
    expect(scheduler.loads().get('gpu1')).toBe(0);
  });

  it('keeps the plain time-limit message when the run ends within the grace period', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    ignoreInterrupts(gpu);
    const job = scheduler.submit(spec('a'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(60_000);
    run.end({ type: 'interrupted' });
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('took longer than 60 s and was stopped');
    expect(clock.pending).toBe(0);
  });

  it('gives a short limit a short grace and names a limit in seconds when it is not whole minutes', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 10 });
    ignoreInterrupts(gpu);
    const job = scheduler.submit(spec('a'));
    (await gpu.running(0)).start();
    clock.advance(10_000);
    await settled();
    clock.advance(2_499);
    expect(job.state).toBe('running');
    clock.advance(1);
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('did not stop after its time limit of 10 s');
  });

  it('ends a job whose submit never returns, and cancels the prompt if the submit finally lands', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    let land!: () => void;
    gpu.beforeSubmit = () => new Promise<void>((resolve) => (land = resolve));
    const job = scheduler.submit(spec('a'));
    const promptId = job.promptId;
    clock.advance(60_000 + 15_000);
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('did not stop after its time limit of 1 minute');
    expect(scheduler.loads().get('gpu1')).toBe(0);
    land();
    await gpu.submitted(0);
    await settled();
    expect(gpu.cancels).toEqual([promptId]);
    expect(job.state).toBe('failed');
  });

  it('also ends a cancel the server ignores, as cancelled', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    ignoreInterrupts(gpu);
    const job = scheduler.submit(spec('a'));
    (await gpu.running(0)).start();
    const cancelled = scheduler.cancel(job.id, { userId: 'a', isModerator: false });
    await settled();
    clock.advance(15_000);
    await expect(cancelled).resolves.toBe('cancelled');
    expect(scheduler.loads().get('gpu1')).toBe(0);
  });
});
