import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, Job, JobControl, specFromSnapshot, type JobSpec, type StateChange } from './job.js';

const spec: JobSpec = {
  owner: { userId: 'u1', guildId: 'g1', roles: ['r1'] },
  command: 'draw',
  workflow: { '3': { class_type: 'KSampler', inputs: { seed: 1 }, _meta: { title: 'Sampler' } }, '9': { class_type: 'SaveImage', inputs: {} } },
  images: [{ option: 'init', filename: 'a.png', bytes: Buffer.from([1, 2, 3]), target: { nodeId: '5', matchedBy: 'id', ref: '5.image', input: 'image' } }],
};

function make(now = 1000) {
  const job = new Job(spec, now);
  const states: StateChange[] = [];
  job.on('state', (s) => states.push(s));
  return { job, control: new JobControl(job, () => now), states };
}

describe('Job state machine', () => {
  it('walks queued → dispatched → running → succeeded with backend, prompt id and attempt in each event', async () => {
    const { job, control, states } = make();
    control.dispatch('gpu1', 'p-1');
    control.start();
    expect(control.succeed([])).toBe(true);
    expect(states.map((s) => s.state)).toEqual(['dispatched', 'running', 'succeeded']);
    expect(states[0]).toMatchObject({ previous: 'queued', backend: 'gpu1', promptId: 'p-1', attempt: 1 });
    await expect(job.done).resolves.toBe('succeeded');
  });

  it('refuses an illegal transition with a message naming both states', () => {
    const { control } = make();
    expect(() => control.start()).toThrow(IllegalTransitionError);
    expect(() => control.start()).toThrow(/cannot go from queued to running/);
  });

  it('reaches exactly one final state: a second ending is refused quietly', async () => {
    const { job, control, states } = make();
    control.dispatch('gpu1', 'p-1');
    expect(control.cancel()).toBe(true);
    expect(control.succeed([])).toBe(false);
    expect(control.fail('late')).toBe(false);
    expect(states.filter((s) => s.state === 'cancelled' || s.state === 'succeeded')).toHaveLength(1);
    await expect(job.done).resolves.toBe('cancelled');
  });

  it('requeue clears the backend, keeps the attempt count and tells listeners why', () => {
    const { job, control } = make();
    const retries: unknown[] = [];
    job.on('retry', (r) => retries.push(r));
    control.dispatch('gpu1', 'p-1');
    control.requeue('backend gpu1 was lost');
    expect(job.state).toBe('queued');
    expect(job.backend).toBeNull();
    expect(retries).toEqual([{ backend: 'gpu1', reason: 'backend gpu1 was lost', attempt: 1 }]);
    control.dispatch('gpu2', 'p-2');
    expect(job.attempt).toBe(2);
  });

  it('names nodes by _meta.title, else class type', () => {
    const { job } = make();
    expect(job.nodeTitle('3')).toBe('Sampler');
    expect(job.nodeTitle('9')).toBe('SaveImage');
    expect(job.nodeTitle('404')).toBeNull();
  });

  it('snapshots to plain JSON that rebuilds the same spec', () => {
    const { job, control } = make();
    control.dispatch('gpu1', 'p-1');
    const snap = JSON.parse(JSON.stringify(job.snapshot())) as ReturnType<Job['snapshot']>;
    expect(snap).toMatchObject({ id: job.id, state: 'dispatched', backend: 'gpu1', promptId: 'p-1', attempt: 1, createdAt: 1000 });
    const rebuilt = specFromSnapshot(snap);
    expect(rebuilt.images?.[0]?.bytes).toEqual(Buffer.from([1, 2, 3]));
    expect(rebuilt.workflow).toEqual(spec.workflow);
    expect(rebuilt.id).toBe(job.id);
  });
});
