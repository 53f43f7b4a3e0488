// No job hangs: a silent or dropped WebSocket is noticed and the run looked up in /history, and every run
// has a time limit after which it is interrupted and failed with a message (recovered runs too).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { BotLife, reaches, spec, submittedPrompts, tempDataDir, type LifeOptions } from './life.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function world(options: LifeOptions = {}): Promise<{ dir: string; fake: FakeComfy; bot: BotLife }> {
  const data = tempDataDir();
  cleanup.push(data.cleanup);
  const fake = await startFakeComfy({ objectInfo: 'core' });
  cleanup.push(() => fake.close());
  const bot = await BotLife.start(data.dir, fake, options);
  cleanup.push(() => bot.crash());
  return { dir: data.dir, fake, bot };
}

/** Runs `fault` at the fake's first sampler step of the next run, with the run held there. */
function atFirstStep(fake: FakeComfy, fault: () => void = () => undefined): Promise<void> {
  return new Promise((resolve) => fake.events.once('step', () => {
    fake.hold();
    fault();
    resolve();
  }));
}

describe('a silent or dropped WebSocket', () => {
  it('finishes a run whose socket went silent, from /history', async () => {
    const { fake, bot } = await world({ stallMs: 200 });
    const held = atFirstStep(fake, () => fake.faults.stallSockets(true));
    const job = bot.submit(spec('ann', 1));
    await held;
    fake.release();
    await expect(job.done).resolves.toBe('succeeded');
    expect(job.outputs).toHaveLength(1);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path.includes(`/history/${job.promptId}`))).toBe(true);
    expect(bot.store.get(job.id)).toMatchObject({ state: 'succeeded', delivery: 'pending' });
  });

  it('finishes a run whose socket dropped, after reconnecting, without submitting it again', async () => {
    const { fake, bot } = await world();
    const reconnected = new Promise<void>((resolve) => fake.events.on('ws-connected', () => resolve()));
    const held = atFirstStep(fake, () => fake.faults.dropSockets());
    const job = bot.submit(spec('ann', 2));
    await held;
    await reconnected;
    fake.release();
    await expect(job.done).resolves.toBe('succeeded');
    expect(submittedPrompts(fake)).toHaveLength(1);
  });
});

describe('the time limit', () => {
  /** Moves the clock `toLimit` ms, onto the job's time limit (not past its grace period), and checks the stop. */
  async function overrun(bot: BotLife, fake: FakeComfy, job: Job, toLimit = 5_000): Promise<void> {
    const cancel = vi.spyOn(bot.backend, 'cancel');
    bot.clock.advance(toLimit);
    expect(cancel).toHaveBeenCalledWith(job.promptId);
    // The interrupt has reached the server before the held run may take its next step.
    await expect(cancel.mock.results[0]!.value).resolves.toBe('interrupted');
    fake.release();
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('took longer than 5 s and was stopped');
    expect(bot.store.get(job.id)).toMatchObject({ state: 'failed', error: job.error, delivery: 'none' });
  }

  it('interrupts a run that takes too long and fails it with a message', async () => {
    const { fake, bot } = await world({ timeoutSeconds: 5 });
    const held = atFirstStep(fake);
    const job = bot.submit(spec('ann', 3));
    await held;
    await reaches(job, 'running');
    bot.clock.advance(4_999);
    expect(job.state).toBe('running');
    const done = fake.next('prompt-done');
    await overrun(bot, fake, job, 1);
    expect((await done)[1]).toBe('interrupted');
  });

  it('still ends a run that overruns while its socket is silent', async () => {
    const { fake, bot } = await world({ timeoutSeconds: 5, stallMs: 200 });
    const held = atFirstStep(fake, () => fake.faults.stallSockets(true));
    const job = bot.submit(spec('ann', 4));
    await held;
    // The frames sent before the silence still arrive; nothing after them does.
    await reaches(job, 'running');
    await overrun(bot, fake, job);
  });

  it('applies to a run adopted after a restart', async () => {
    const { dir, fake, bot } = await world({ timeoutSeconds: 5 });
    const held = atFirstStep(fake);
    const job = bot.submit(spec('ann', 5));
    await held;
    await reaches(job, 'running');
    const startedAt = bot.store.get(job.id)!.startedAt!;
    await bot.crash();

    // Back the moment it started (the time already spent is tested below): the whole limit is left.
    const next = await BotLife.start(dir, fake, { timeoutSeconds: 5, startAt: startedAt });
    cleanup.push(() => next.crash());
    const [adopted] = next.recover().restored;
    await reaches(adopted!.job, 'running');
    await overrun(next, fake, adopted!.job);
  });

  it('counts the time a run spent before the restart against its limit', async () => {
    const { dir, fake, bot } = await world({ timeoutSeconds: 5 });
    const held = atFirstStep(fake);
    const job = bot.submit(spec('ann', 6));
    await held;
    await reaches(job, 'running');
    const startedAt = bot.store.get(job.id)!.startedAt!;
    await bot.crash();

    // Back 4 s after the run started: 1 s of its 5 s limit is left.
    const next = await BotLife.start(dir, fake, { timeoutSeconds: 5, startAt: startedAt + 4_000 });
    cleanup.push(() => next.crash());
    const [adopted] = next.recover().restored;
    await reaches(adopted!.job, 'running');
    const cancel = vi.spyOn(next.backend, 'cancel');
    next.clock.advance(999);
    expect(cancel).not.toHaveBeenCalled();
    next.clock.advance(1);
    expect(cancel).toHaveBeenCalledWith(adopted!.job.promptId);
    await expect(cancel.mock.results[0]!.value).resolves.toBe('interrupted');
    fake.release();
    await expect(adopted!.job.done).resolves.toBe('failed');
    expect(adopted!.job.error).toBe('took longer than 5 s and was stopped');
  });

  it('fails a run whose server ignores the interrupt, and a late end of that prompt changes nothing', async () => {
    const { fake, bot } = await world({ timeoutSeconds: 8 });
    const held = atFirstStep(fake);
    const job = bot.submit(spec('ann', 7));
    await held;
    await reaches(job, 'running');
    // The server accepts the interrupt and keeps running the prompt.
    const cancel = vi.spyOn(bot.backend, 'cancel').mockResolvedValue('interrupted');
    bot.clock.advance(8_000);
    expect(cancel).toHaveBeenCalledWith(job.promptId);
    await cancel.mock.results[0]!.value;
    bot.clock.advance(2_000);
    await expect(job.done).resolves.toBe('failed');
    expect(job.error).toBe('did not stop after its time limit of 8 s');
    expect(bot.scheduler.loads().get('gpu1')).toBe(0);
    const done = fake.next('prompt-done');
    fake.release();
    expect((await done)[1]).toBe('success');
    expect(job.state).toBe('failed');
    expect(job.outputs).toBeNull();
    expect(bot.store.get(job.id)).toMatchObject({ state: 'failed', error: job.error, delivery: 'none' });
  });
});
