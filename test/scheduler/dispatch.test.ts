import { describe, expect, it } from 'vitest';
import type { JobPosition, StateChange } from '../../src/jobs/job.js';
import { UnavailableError } from '../../src/scheduler/errors.js';
import { BackendDouble, output } from './backend-double.js';
import { label, setup, spec, withModel } from './helpers.js';

describe('dispatch and a job’s life', () => {
  it('emits dispatched with backend and prompt id before the submit, then progress, preview, outputs', async () => {
    const { scheduler, gpu } = setup();
    const job = scheduler.submit(spec('alice'));
    const states: StateChange[] = [];
    const progress: unknown[] = [];
    const nodes: unknown[] = [];
    const previews: unknown[] = [];
    job.on('state', (s) => states.push(s));
    job.on('progress', (p) => progress.push(p));
    job.on('node', (n) => nodes.push(n));
    job.on('preview', (p) => previews.push(p));
    const run = await gpu.running(0);
    expect(run.stateAtSubmit).toBe('dispatched');
    expect(job.state).toBe('dispatched');
    expect(job.backend).toBe('gpu1');
    expect(job.promptId).toBe(run.promptId);
    expect(run.promptId).toMatch(/^[0-9a-f-]{36}$/);
    run.start();
    run.emit({ type: 'node', node: '3' });
    run.emit({ type: 'progress', node: '3', value: 5, max: 20 });
    run.emit({ type: 'preview', mime: 'image/jpeg', bytes: Buffer.from('jpg') });
    run.succeed([output('cat')]);
    await expect(job.done).resolves.toBe('succeeded');
    expect(states.map((s) => s.state)).toEqual(['running', 'succeeded']);
    expect(nodes).toEqual([{ node: '3', nodeTitle: 'Sampler' }]);
    expect(progress).toEqual([{ value: 5, max: 20, node: '3', nodeTitle: 'Sampler' }]);
    expect(previews).toEqual([{ mime: 'image/jpeg', bytes: Buffer.from('jpg') }]);
    expect(job.outputs?.map((o) => o.ref.filename)).toEqual(['cat.png']);
    expect(scheduler.get(job.id)).toBeUndefined();
  });

  it('refuses a second job with the id of a live one', () => {
    const { scheduler } = setup();
    scheduler.submit(spec('a', { id: 'same' }));
    expect(() => scheduler.submit(spec('b', { id: 'same' }))).toThrow('job same is already in the scheduler');
  });

  it('serves users round-robin: a heavy user’s queue does not hold back light users', async () => {
    const { scheduler, gpu } = setup();
    const order: string[] = [];
    for (let i = 1; i <= 5; i += 1) scheduler.submit(spec('a', { params: { label: `a${i}` } }));
    scheduler.submit(spec('b', { params: { label: 'b1' } }));
    scheduler.submit(spec('c', { params: { label: 'c1' } }));
    scheduler.submit(spec('c', { params: { label: 'c2' } }));
    for (let i = 0; i < 8; i += 1) {
      const run = await gpu.running(i);
      order.push(label(run));
      run.start();
      run.succeed();
    }
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'a4', 'a5']);
  });

  it('serves members of priority roles first', async () => {
    const { scheduler, gpu } = setup({ priorityRoles: ['vip'] });
    scheduler.submit(spec('a', { params: { label: 'a1' } }));
    scheduler.submit(spec('a', { params: { label: 'a2' } }));
    scheduler.submit(spec('b', { params: { label: 'b1' } }));
    scheduler.submit({ ...spec('v', { params: { label: 'v1' } }), owner: { userId: 'v', guildId: 'g1', roles: ['vip'] } });
    const order: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const run = await gpu.running(i);
      order.push(label(run));
      run.succeed();
    }
    expect(order).toEqual(['a1', 'v1', 'b1', 'a2']);
  });

  it('runs a user’s jobs in parallel up to their running limit, on the least loaded backend', async () => {
    const big = new BackendDouble('big', { capacity: 2 });
    const small = new BackendDouble('small', { capacity: 1, weight: 2 });
    const { scheduler } = setup({ backends: [big, small], limits: { perUserRunning: 2 } });
    const jobs = [scheduler.submit(spec('a')), scheduler.submit(spec('a')), scheduler.submit(spec('a'))];
    expect(jobs.map((j) => j.backend)).toEqual(['small', 'big', null]);
    expect(scheduler.loads()).toEqual(new Map([['big', 1], ['small', 1]]));
    const other = scheduler.submit(spec('b'));
    expect(other.backend).toBe('big');
  });

  it('routes a job to a backend that has its model, and refuses one no backend has', async () => {
    const plain = new BackendDouble('plain', { models: ['sd15.safetensors'] });
    const xl = new BackendDouble('xl', { models: ['sdxl.safetensors'] });
    const { scheduler } = setup({ backends: [plain, xl] });
    const busy = scheduler.submit(withModel('a', 'sd15.safetensors'));
    const job = scheduler.submit(withModel('b', 'sdxl.safetensors'));
    const waits = scheduler.submit(withModel('c', 'sdxl.safetensors'));
    expect(busy.backend).toBe('plain');
    expect(job.backend).toBe('xl');
    expect(waits.state).toBe('queued');
    expect(() => scheduler.submit(withModel('d', 'flux.safetensors'))).toThrow(
      new UnavailableError('unsupported', 'no backend can run this: model flux.safetensors is not installed on any backend'),
    );
  });

  it('gives positions and an ETA from recent run times', async () => {
    const { scheduler, gpu, clock } = setup();
    const first = scheduler.submit(spec('a'));
    const run = await gpu.running(0);
    run.start();
    clock.advance(10_000);
    run.succeed();
    await first.done;
    scheduler.submit(spec('x'));
    const second = await gpu.running(1);
    const waiting = [scheduler.submit(spec('a')), scheduler.submit(spec('b'))];
    const seen: JobPosition[] = [];
    waiting[0]!.on('position', (p) => seen.push(p));
    expect(scheduler.position(waiting[0]!.id)).toEqual({ global: 1, user: 0, eta: 30_000, held: false });
    expect(scheduler.position(waiting[1]!.id)).toEqual({ global: 0, user: 0, eta: 20_000, held: false });
    second.succeed();
    await gpu.running(2);
    expect(seen.at(-1)).toMatchObject({ global: 0, user: 0 });
    expect(scheduler.position(waiting[0]!.id)).toMatchObject({ global: 0, user: 0 });
  });
});

describe('failover and health', () => {
  it('needs at least one backend', async () => {
    const { Scheduler } = await import('../../src/scheduler/scheduler.js');
    expect(() => new Scheduler({ backends: [], limits: { perUserRunning: 1, perUserQueued: 1, minIntervalSeconds: 0 }, maxTries: 1, timeoutSeconds: 1 })).toThrow(
      'the scheduler needs at least one backend',
    );
  });

  it('puts a job whose backend was lost back at the head and completes it elsewhere', async () => {
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler } = setup({ backends: [gpu1, gpu2] });
    const job = scheduler.submit(spec('a'));
    const blocker = scheduler.submit(spec('b'));
    const retries: unknown[] = [];
    job.on('retry', (r) => retries.push(r));
    const lost = await gpu1.running(0);
    const other = await gpu2.running(0);
    const waiting = scheduler.submit(spec('c'));
    lost.start();
    gpu1.setHealthy(false);
    lost.end({ type: 'lost', message: 'the server restarted and forgot the prompt' });
    other.succeed();
    await blocker.done;
    const again = await gpu2.running(1);
    expect(again.spec.id).toBe(job.id);
    expect(waiting.state).toBe('queued');
    expect(retries).toEqual([{ backend: 'gpu1', reason: 'backend gpu1 was lost: the server restarted and forgot the prompt', attempt: 1 }]);
    again.succeed();
    await expect(job.done).resolves.toBe('succeeded');
    expect(job.attempt).toBe(2);
  });

  it('fails a job lost more than maxTries times, in words', async () => {
    const { scheduler, gpu } = setup({ maxTries: 2 });
    const job = scheduler.submit(spec('a'));
    (await gpu.running(0)).end({ type: 'lost', message: 'connection reset' });
    (await gpu.running(1)).end({ type: 'lost', message: 'connection reset' });
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('gave up after 2 tries: backend gpu1 was lost: connection reset');
  });

  it('requeues when the submit cannot reach the backend, and fails when ComfyUI refuses the workflow', async () => {
    const { BackendUnavailableError } = await import('../../src/scheduler/backend.js');
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler } = setup({ backends: [gpu1, gpu2] });
    gpu1.beforeSubmit = async () => {
      gpu1.healthy = false;
      throw new BackendUnavailableError('gpu1', 'connection refused');
    };
    const job = scheduler.submit(spec('a'));
    expect(job.backend).toBe('gpu1');
    (await gpu2.running(0)).succeed();
    await expect(job.done).resolves.toBe('succeeded');

    gpu2.beforeSubmit = async () => {
      throw new Error('ComfyUI refused the workflow: steps: 80 is above the maximum 50');
    };
    const refused = scheduler.submit(spec('b'));
    await expect(refused.done).resolves.toBe('failed');
    expect(refused.error).toBe('ComfyUI refused the workflow: steps: 80 is above the maximum 50');
  });

  it('fails a requeued job that no remaining backend can run', async () => {
    const xl = new BackendDouble('xl', { models: ['sdxl.safetensors'] });
    const plain = new BackendDouble('plain');
    const { scheduler } = setup({ backends: [xl, plain] });
    const job = scheduler.submit(withModel('a', 'sdxl.safetensors'));
    const run = await xl.running(0);
    xl.setInventory({ nodeClasses: xl.inventory!.nodeClasses, models: new Set(), folders: new Map() });
    run.end({ type: 'lost', message: 'restarted' });
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('no backend can run this: model sdxl.safetensors is not installed on any backend');
  });

  it('accepts jobs when every backend is down, keeps queued ones, and dispatches on recovery', async () => {
    const { scheduler, gpu } = setup();
    const first = scheduler.submit(spec('a'));
    const queued = scheduler.submit(spec('b'));
    gpu.setHealthy(false);
    (await gpu.running(0)).end({ type: 'lost', message: 'gone' });
    const late = scheduler.submit(spec('c'));
    await Promise.resolve();
    expect(first.state).toBe('queued');
    expect(queued.state).toBe('queued');
    expect(late.state).toBe('queued');
    gpu.setHealthy(true);
    const run = await gpu.running(1);
    expect(run.spec.id).toBe(first.id);
  });

  it('drains one backend: no new work, resolves when its job ends, resumes on request', async () => {
    const gpu1 = new BackendDouble('gpu1');
    const gpu2 = new BackendDouble('gpu2');
    const { scheduler } = setup({ backends: [gpu1, gpu2] });
    scheduler.submit(spec('a'));
    const run = await gpu1.running(0);
    let drained = false;
    const draining = scheduler.drainBackend('gpu1').then(() => (drained = true));
    const next = scheduler.submit(spec('b'));
    const third = scheduler.submit(spec('c'));
    expect(next.backend).toBe('gpu2');
    expect(third.state).toBe('queued');
    expect(drained).toBe(false);
    run.succeed();
    await draining;
    expect(third.state).toBe('queued');
    scheduler.resumeBackend('gpu1');
    expect(third.backend).toBe('gpu1');
    expect(() => scheduler.drainBackend('nope')).toThrow('there is no backend named nope');
  });

  it('pauses and resumes the whole queue, and drains it for shutdown', async () => {
    const { scheduler, gpu } = setup();
    scheduler.pause();
    const job = scheduler.submit(spec('a'));
    expect(job.state).toBe('queued');
    scheduler.resume();
    expect(job.state).toBe('dispatched');
    const drained = scheduler.drain();
    expect(() => scheduler.submit(spec('b'))).toThrow('the bot is not taking new jobs right now; try again later');
    (await gpu.running(0)).succeed();
    await drained;
    expect(scheduler.jobs()).toEqual([]);
  });

  it('goes from a drain to a pause (jobs taken again, none start) and from a pause to a drain (the waiting ones run)', async () => {
    const { scheduler, gpu } = setup();
    void scheduler.drain();
    scheduler.pause();
    const job = scheduler.submit(spec('a'));
    expect(job.state).toBe('queued');
    const drained = scheduler.drain();
    expect(job.state).toBe('dispatched');
    expect(() => scheduler.submit(spec('b'))).toThrow('the bot is not taking new jobs right now; try again later');
    (await gpu.running(0)).succeed();
    await drained;
  });

  it('stops and fails a job that runs past the time limit', async () => {
    const { scheduler, gpu, clock } = setup({ timeoutSeconds: 60 });
    const job = scheduler.submit(spec('a'));
    (await gpu.running(0)).start();
    clock.advance(60_000);
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('took longer than 60 s and was stopped');
    expect(gpu.cancels).toEqual([job.promptId]);
  });
});
