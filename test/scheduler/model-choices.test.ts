import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/jobs/job.js';
import { UnavailableError } from '../../src/scheduler/errors.js';
import type { ModelPreference } from '../../src/templates/model-choice.js';
import { BackendDouble } from './backend-double.js';
import { setup, withModel } from './helpers.js';

const target = { nodeId: '4', input: 'ckpt_name', matchedBy: 'id' as const, ref: '4.ckpt_name' };
const STOCK: ModelPreference = { prefer: ['v1-5.safetensors'], fallback: 'first' };

/** A job whose member picked no model: the template's placeholder (installed nowhere) is to be chosen per backend. */
function unpicked(userId: string, preference: ModelPreference = STOCK, params: Record<string, unknown> = {}): JobSpec {
  return { ...withModel(userId, 'placeholder.safetensors'), params: { prompt: 'a cat', ...params }, choices: [{ option: 'model', folder: 'checkpoints', target, preference }] };
}

function ckptOf(run: { spec: JobSpec }): unknown {
  return run.spec.workflow['4']?.inputs.ckpt_name;
}

describe('a model left to the preference', () => {
  it('runs on a backend whose only checkpoint has another name, with that checkpoint, and records it', async () => {
    const other = new BackendDouble('other', { folders: { checkpoints: ['dreamshaper_8.safetensors', 'zzz.safetensors'] } });
    const { scheduler } = setup({ backends: [other] });
    const job = scheduler.submit(unpicked('alice'));
    const run = await other.running(0);
    expect(ckptOf(run)).toBe('dreamshaper_8.safetensors');
    expect(run.spec.choices).toBeUndefined();
    expect(job.params).toEqual({ prompt: 'a cat', model: 'dreamshaper_8.safetensors' });
    // The job's own spec still says what was asked for: a later dispatch chooses again.
    expect(job.spec.workflow['4']?.inputs.ckpt_name).toBe('placeholder.safetensors');
    run.succeed();
    await expect(job.done).resolves.toBe('succeeded');
    expect(job.params.model).toBe('dreamshaper_8.safetensors');
  });

  it('chooses per backend: two backends with different checkpoints each use their own', async () => {
    const stock = new BackendDouble('stock', { folders: { checkpoints: ['a.safetensors', 'v1-5.safetensors'] } });
    const other = new BackendDouble('other', { folders: { checkpoints: ['b.safetensors'] } });
    const { scheduler } = setup({ backends: [stock, other], limits: { perUserRunning: 5 } });
    const first = scheduler.submit(unpicked('alice'));
    const second = scheduler.submit(unpicked('alice'));
    expect(ckptOf(await stock.running(0))).toBe('v1-5.safetensors');
    expect(ckptOf(await other.running(0))).toBe('b.safetensors');
    expect(first.params.model).toBe('v1-5.safetensors');
    expect(second.params.model).toBe('b.safetensors');
  });

  it('prefers a free backend that has a preferred model over a less loaded or heavier one that has not', async () => {
    const other = new BackendDouble('other', { capacity: 4, weight: 9, folders: { checkpoints: ['b.safetensors'] } });
    const stock = new BackendDouble('stock', { capacity: 2, folders: { checkpoints: ['v1-5.safetensors'] } });
    const { scheduler } = setup({ backends: [other, stock], limits: { perUserRunning: 5 } });
    scheduler.submit(unpicked('alice'));
    scheduler.submit(unpicked('bob'));
    expect(ckptOf(await stock.running(0))).toBe('v1-5.safetensors');
    expect(ckptOf(await stock.running(1))).toBe('v1-5.safetensors');
    // The preferred backend is full: the next job runs now on the other one, through the fallback.
    scheduler.submit(unpicked('carol'));
    expect(ckptOf(await other.running(0))).toBe('b.safetensors');
  });

  it('is never sent to a backend with nothing in the folder', async () => {
    const empty = new BackendDouble('empty', { weight: 9, folders: { checkpoints: [] } });
    const other = new BackendDouble('other', { folders: { checkpoints: ['b.safetensors'] } });
    const { scheduler } = setup({ backends: [empty, other] });
    scheduler.submit(unpicked('alice'));
    expect(ckptOf(await other.running(0))).toBe('b.safetensors');
    expect(empty.runs).toHaveLength(0);
  });

  it('is refused with the reason when no backend has any model in the folder', () => {
    const { scheduler } = setup({ backends: [new BackendDouble('a', { folders: { checkpoints: [] } }), new BackendDouble('b')] });
    expect(() => scheduler.submit(unpicked('alice'))).toThrow(new UnavailableError('unsupported', 'no backend can run this: no backend has a model in models/checkpoints (for "model")'));
  });

  it('without a fallback, runs only where a preferred name is, and says so when none has one', async () => {
    const strict: ModelPreference = { prefer: ['v1-5.safetensors', 'v2.safetensors'], fallback: null };
    const other = new BackendDouble('other', { weight: 9, folders: { checkpoints: ['b.safetensors'] } });
    const stock = new BackendDouble('stock', { folders: { checkpoints: ['v2.safetensors'] } });
    const { scheduler } = setup({ backends: [other, stock] });
    scheduler.submit(unpicked('alice', strict));
    expect(ckptOf(await stock.running(0))).toBe('v2.safetensors');
    const { scheduler: lone } = setup({ backends: [new BackendDouble('other', { folders: { checkpoints: ['b.safetensors'] } })] });
    expect(() => lone.submit(unpicked('alice', strict))).toThrow('no backend can run this: no backend has v1-5.safetensors or v2.safetensors in models/checkpoints (for "model")');
  });

  it('keeps a model the member picked a requirement, as before', () => {
    const { scheduler } = setup({ backends: [new BackendDouble('other', { folders: { checkpoints: ['b.safetensors'] } })] });
    expect(() => scheduler.submit(withModel('alice', 'v1-5.safetensors'))).toThrow('model v1-5.safetensors is not installed on any backend');
  });

  it('answers check() like submit()', () => {
    const { scheduler } = setup({ backends: [new BackendDouble('a', { folders: { checkpoints: [] } })] });
    const { workflow, choices, ...query } = unpicked('alice');
    expect(() => scheduler.check({ ...query, workflow, ...(choices ? { choices } : {}) })).toThrow('no backend has a model in models/checkpoints');
    expect(() => scheduler.check({ ...query, workflow })).toThrow('model placeholder.safetensors is not installed on any backend');
  });

  it('chooses again after its backend was lost, on the backend that takes it then', async () => {
    const stock = new BackendDouble('stock', { folders: { checkpoints: ['v1-5.safetensors'] } });
    const other = new BackendDouble('other', { folders: { checkpoints: ['b.safetensors'] } });
    const { scheduler } = setup({ backends: [stock, other] });
    const job = scheduler.submit(unpicked('alice'));
    const lost = await stock.running(0);
    expect(job.params.model).toBe('v1-5.safetensors');
    stock.setHealthy(false);
    lost.end({ type: 'lost', message: 'restarted' });
    const again = await other.running(0);
    expect(ckptOf(again)).toBe('b.safetensors');
    expect(job.params.model).toBe('b.safetensors');
  });

  it('after a restart: a queued job chooses at dispatch, an adopted one keeps the model it was submitted with', async () => {
    const other = new BackendDouble('other', { capacity: 2, folders: { checkpoints: ['b.safetensors'] } });
    const { scheduler } = setup({ backends: [other], limits: { perUserRunning: 5 } });
    const adopted = withModel('alice', 'v1-5.safetensors');
    const [running, queued] = scheduler.restore({
      queued: [unpicked('bob')],
      inFlight: [{ spec: { ...adopted, id: 'j1', params: { model: 'v1-5.safetensors' } }, backend: 'other', promptId: 'p1', attempt: 1, dispatchedAt: 0, startedAt: null }],
    });
    const followed = await other.running(0);
    expect(followed.stateAtSubmit).toBe('adopted');
    expect(ckptOf(followed)).toBe('v1-5.safetensors');
    expect(running?.params.model).toBe('v1-5.safetensors');
    expect(ckptOf(await other.running(1))).toBe('b.safetensors');
    expect(queued?.params.model).toBe('b.safetensors');
  });

  it('after a restart, runs again an in-flight job whose model was never chosen rather than follow it', async () => {
    const other = new BackendDouble('other', { folders: { checkpoints: ['b.safetensors'] } });
    const { scheduler } = setup({ backends: [other] });
    const [job] = scheduler.restore({ queued: [], inFlight: [{ spec: { ...unpicked('alice'), id: 'j2' }, backend: 'other', promptId: 'p2', attempt: 1, dispatchedAt: 0, startedAt: null }] });
    const run = await other.running(0);
    expect(run.stateAtSubmit).toBe('dispatched');
    expect(ckptOf(run)).toBe('b.safetensors');
    expect(job?.params.model).toBe('b.safetensors');
  });
});
