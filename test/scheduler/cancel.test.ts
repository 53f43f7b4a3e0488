import { describe, expect, it } from 'vitest';
import type { StateChange } from '../../src/jobs/job.js';
import { CancelError } from '../../src/scheduler/errors.js';
import { setup, spec } from './helpers.js';

const owner = (userId: string) => ({ userId, isModerator: false });

function finals(job: { on(e: 'state', l: (s: StateChange) => void): unknown }): StateChange['state'][] {
  const out: StateChange['state'][] = [];
  job.on('state', (s) => {
    if (['succeeded', 'failed', 'cancelled'].includes(s.state)) out.push(s.state);
  });
  return out;
}

describe('cancel', () => {
  it('removes a queued job from the bot’s queue without touching ComfyUI, and the next job moves up', async () => {
    const { scheduler, gpu } = setup();
    scheduler.submit(spec('a'));
    const queued = scheduler.submit(spec('b'));
    const behind = scheduler.submit(spec('c'));
    expect(scheduler.position(behind.id)?.global).toBe(1);
    await expect(scheduler.cancel(queued.id, owner('b'))).resolves.toBe('cancelled');
    expect(scheduler.position(behind.id)?.global).toBe(0);
    expect(gpu.cancels).toEqual([]);
  });

  it('dequeues a job pending in ComfyUI', async () => {
    const { scheduler, gpu } = setup();
    const job = scheduler.submit(spec('a'));
    const run = await gpu.running(0);
    await expect(scheduler.cancel(job.id, owner('a'))).resolves.toBe('cancelled');
    expect(gpu.cancels).toEqual([run.promptId]);
  });

  it('interrupts a running job and frees the backend for the next one', async () => {
    const { scheduler, gpu } = setup();
    const job = scheduler.submit(spec('a'));
    const next = scheduler.submit(spec('b'));
    const ended = finals(job);
    (await gpu.running(0)).start();
    await expect(scheduler.cancel(job.id, owner('a'))).resolves.toBe('cancelled');
    expect(ended).toEqual(['cancelled']);
    const run = await gpu.running(1);
    expect(run.spec.id).toBe(next.id);
  });

  it('cancels a job whose submit is still in flight once the prompt exists', async () => {
    const { scheduler, gpu } = setup();
    let release!: () => void;
    gpu.beforeSubmit = () => new Promise<void>((r) => (release = r));
    const job = scheduler.submit(spec('a'));
    const cancelled = scheduler.cancel(job.id, owner('a'));
    expect(job.state).toBe('dispatched');
    release();
    await expect(cancelled).resolves.toBe('cancelled');
    expect(gpu.cancels).toEqual([job.promptId]);
  });

  it('race: a job that finishes while being cancelled ends succeeded, exactly once', async () => {
    const { scheduler, gpu } = setup();
    const job = scheduler.submit(spec('a'));
    const ended = finals(job);
    const run = await gpu.running(0);
    run.start();
    run.succeed();
    // The cancel reaches ComfyUI after the prompt ended: it answers not-found.
    await expect(scheduler.cancel(job.id, owner('a'))).resolves.toBe('succeeded');
    expect(ended).toEqual(['succeeded']);
    expect(job.outputs).toHaveLength(1);
  });

  it('race: the interrupt lands as the prompt completes: one final state, never both', async () => {
    const { scheduler, gpu } = setup();
    const job = scheduler.submit(spec('a'));
    const ended = finals(job);
    const run = await gpu.running(0);
    run.start();
    const original = gpu.cancel.bind(gpu);
    gpu.cancel = async (promptId) => {
      run.succeed();
      return original(promptId);
    };
    await expect(scheduler.cancel(job.id, owner('a'))).resolves.toBe('succeeded');
    expect(ended).toEqual(['succeeded']);
  });

  it('refuses anyone but the owner, lets a moderator cancel, and never touches another user’s job', async () => {
    const { scheduler, gpu } = setup({ backends: undefined });
    const mine = scheduler.submit(spec('a'));
    const theirs = scheduler.submit(spec('b'));
    const run = await gpu.running(0);
    run.start();
    await expect(scheduler.cancel(mine.id, owner('b'))).rejects.toThrow(new CancelError('not-yours', mine.id));
    await expect(scheduler.cancel(mine.id, owner('b'))).rejects.toThrow('this is not your job');
    expect(gpu.cancels).toEqual([]);
    await expect(scheduler.cancel(theirs.id, { userId: 'mod', isModerator: true })).resolves.toBe('cancelled');
    expect(mine.state).toBe('running');
    expect(gpu.cancels).toEqual([]);
    await expect(scheduler.cancel(mine.id, owner('a'))).resolves.toBe('cancelled');
    expect(gpu.cancels).toEqual([run.promptId]);
    await expect(scheduler.cancel(mine.id, owner('a'))).rejects.toThrow('there is no such job');
  });

  it('a cancel on one backend never reaches another backend’s prompt', async () => {
    const { BackendDouble } = await import('./backend-double.js');
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler } = setup({ backends: [gpu1, gpu2] });
    const a = scheduler.submit(spec('a'));
    const b = scheduler.submit(spec('b'));
    (await gpu1.running(0)).start();
    (await gpu2.running(0)).start();
    await scheduler.cancel(b.id, owner('b'));
    expect(gpu1.cancels).toEqual([]);
    expect(gpu2.cancels).toEqual([b.promptId]);
    expect(a.state).toBe('running');
  });
});
