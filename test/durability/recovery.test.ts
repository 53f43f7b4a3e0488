// Recovery after a crash, on the real store, scheduler, ComfyUI client and backend against the fake ComfyUI:
// every unfinished job comes back where it was and ends exactly once.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import type { Job } from '../../src/jobs/job.js';
import type { FakeComfy } from '../fakes/comfy/index.js';
import { reaches, spec, submittedPrompts, useLives } from './life.js';

const { world, life } = useLives();

/** Holds the fake at its next sampler step, so the job is running and stays so. */
function holdAtFirstStep(fake: FakeComfy): Promise<unknown> {
  return new Promise((resolve) => fake.events.once('step', (...args) => {
    fake.hold();
    resolve(args);
  }));
}

describe('recovering unfinished jobs', () => {
  it('returns queued jobs to the fair queue in their order', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    first.scheduler.pause();
    const ids = ['ann', 'bob', 'cid'].map((user, i) => first.submit(spec(user, 100 + i)).id);
    expect(first.store.unfinished().map((r) => r.state)).toEqual(['queued', 'queued', 'queued']);
    await first.crash();

    const second = await life(dir, fake);
    const seen = new Map<string, string[]>();
    const { restored, failed } = second.recover((j) => j.on('state', (s) => seen.set(j.id, [...(seen.get(j.id) ?? []), s.state])));
    expect(failed).toEqual([]);
    expect(restored.map((r) => r.job.id)).toEqual(ids);
    await Promise.all(restored.map((r) => r.job.done));
    // Listeners attached during recovery see every move, the first dispatch included.
    for (const id of ids) expect(seen.get(id)).toEqual(['dispatched', 'running', 'succeeded']);
    // Dispatched one at a time (capacity 1) in the order they were queued before the crash, seeds intact.
    expect(submittedPrompts(fake).map((p) => p.prompt['3']!.inputs.seed)).toEqual([100, 101, 102]);
    for (const id of ids) expect(second.store.get(id)).toMatchObject({ state: 'succeeded', delivery: 'pending', attempts: 1 });
  });

  it("keeps an operator's pause: restored jobs wait until the operator resumes (the leader adopts jobs while paused)", async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    first.scheduler.pause();
    const id = first.submit(spec('ann', 5)).id;
    await first.crash();

    const second = await life(dir, fake);
    second.scheduler.pause();
    const { restored } = second.recover();
    expect(restored.map((r) => r.job.id)).toEqual([id]);
    expect(restored[0]!.job.state).toBe('queued');
    expect(submittedPrompts(fake)).toEqual([]);
    second.scheduler.resume();
    await expect(restored[0]!.job.done).resolves.toBe('succeeded');
  });

  it('delivers a job whose prompt finished while the bot was down, without running it again', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const held = holdAtFirstStep(fake);
    const job = first.submit(spec('ann', 7));
    await held;
    await reaches(job, 'running');
    await first.crash();
    const finished = fake.next('prompt-done');
    fake.release();
    expect((await finished)[1]).toBe('success');

    const second = await life(dir, fake);
    const { restored } = second.recover();
    expect(restored).toHaveLength(1);
    const again = restored[0]!.job;
    expect(again.promptId).toBe(job.promptId);
    await expect(again.done).resolves.toBe('succeeded');
    expect(again.outputs?.[0]?.mime).toBe('image/png');
    expect(submittedPrompts(fake)).toHaveLength(1);
    const row = second.store.get(job.id)!;
    expect(row).toMatchObject({ state: 'succeeded', delivery: 'pending', error: null });
    expect(row.outputs).toEqual([expect.objectContaining({ node: '9', kind: 'images', type: 'output' })]);
    expect(second.store.pendingDeliveries().map((r) => r.id)).toEqual([job.id]);
  });

  it('adopts a job still running, keeps its live events coming, and completes it', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const held = holdAtFirstStep(fake);
    const job = first.submit(spec('ann', 8));
    await held;
    await reaches(job, 'running');
    await first.crash();

    const logged: { level: number; msg: string }[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        done();
      },
    });
    const second = await life(dir, fake, { logger: createLogger({ level: 'debug', destination }) });
    const progress: number[] = [];
    const { restored } = second.recover((j) => j.on('progress', (p) => progress.push(p.value)));
    const adopted = restored[0]!.job;
    expect(adopted.state).toBe('dispatched');
    fake.release();
    await expect(adopted.done).resolves.toBe('succeeded');
    // The card keeps updating: the same client id gets the rest of the run's frames after the restart.
    expect(progress).toEqual([2, 3, 4]);
    expect(submittedPrompts(fake)).toHaveLength(1);
    expect(second.store.get(job.id)).toMatchObject({ state: 'succeeded', attempts: 1 });
    // The row already said running: adopting the job is no surprise worth a warning.
    expect(logged.filter((l) => l.level >= 40)).toEqual([]);
    expect(logged.map((l) => l.msg)).toContain('jobs recovered from the store');
  });

  it('resubmits a job its restarted ComfyUI forgot, once, with the same workflow and seed', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const held = holdAtFirstStep(fake);
    const job = first.submit(spec('ann', 9));
    await held;
    await first.crash();
    await fake.restart();
    fake.release();

    const second = await life(dir, fake);
    const retries: string[] = [];
    const { restored } = second.recover((j) => j.on('retry', (r) => retries.push(r.reason)));
    const again = restored[0]!.job;
    await expect(again.done).resolves.toBe('succeeded');
    expect(retries).toEqual([expect.stringContaining('neither the queue nor the history')]);
    const prompts = submittedPrompts(fake);
    expect(prompts).toHaveLength(2);
    expect(prompts[1]!.prompt).toEqual(prompts[0]!.prompt);
    expect(prompts[1]!.promptId).not.toBe(prompts[0]!.promptId);
    expect(second.store.get(job.id)).toMatchObject({ state: 'succeeded', promptId: prompts[1]!.promptId, attempts: 3 });
  });

  it('fails a resubmitted job with a message when its ComfyUI forgets it again', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    let held = holdAtFirstStep(fake);
    const job = first.submit(spec('ann', 10));
    await held;
    await first.crash();
    await fake.restart();
    fake.release();

    const second = await life(dir, fake);
    held = holdAtFirstStep(fake);
    const { restored } = second.recover();
    await held;
    await fake.restart();
    fake.release();
    const again = restored[0]!.job;
    await expect(again.done).resolves.toBe('failed');
    expect(again.error).toMatch(/^gave up after 3 tries: backend gpu1 was lost: prompt .* is in neither the queue nor the history/);
    expect(second.store.get(job.id)).toMatchObject({ state: 'failed', error: again.error, delivery: 'none' });
    expect(submittedPrompts(fake)).toHaveLength(2);
  });

  it('ends every job exactly once across back-to-back crashes', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    first.scheduler.pause();
    const jobs = ['ann', 'bob', 'cid', 'dee'].map((user, i) => first.submit(spec(user, 200 + i)));
    await first.crash();

    // Crash again right after recovery: the first job is dispatched and its prompt on its way.
    fake.hold();
    const second = await life(dir, fake);
    second.recover();
    await second.crash();

    const third = await life(dir, fake);
    const finals = new Map<string, string[]>();
    const { restored } = third.recover((j: Job) =>
      j.on('state', (s) => s.previous && ['succeeded', 'failed', 'cancelled'].includes(s.state) && finals.set(j.id, [...(finals.get(j.id) ?? []), s.state])),
    );
    expect(restored.map((r) => r.job.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    fake.release();
    await Promise.all(restored.map((r) => r.job.done));
    for (const j of jobs) {
      expect(finals.get(j.id)).toEqual(['succeeded']);
      expect(third.store.get(j.id)).toMatchObject({ state: 'succeeded', delivery: 'pending' });
    }
    expect(third.store.unfinished()).toEqual([]);
  });
});
