import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../config/logger.js';
import { Job, JobControl, type JobSpec } from './job.js';
import { followPersisted, persistJob, type PersistenceStore } from './persistence.js';
import { openJobStore, type JobStore } from './store.js';

const spec: JobSpec = {
  owner: { userId: '11', guildId: '22', roles: [] },
  command: 'imagine',
  workflow: { '3': { class_type: 'KSampler', inputs: { seed: 5 } } },
  params: { prompt: 'a cat', seed: '18446744073709551615' },
};
const output = { node: '9', ref: { filename: 'x_00001_.png', subfolder: '', type: 'output' }, kind: 'images', mime: 'image/png', bytes: Buffer.from([1]) };

let dir: string;
let store: JobStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'persistence-'));
  store = openJobStore({ dataDir: dir });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function newJob(): { job: Job; control: JobControl } {
  const job = new Job(spec, 1000);
  return { job, control: new JobControl(job, () => 2000) };
}

describe('persistJob', () => {
  it('writes the job when accepted and follows it to success, with the prompt id before the run starts', () => {
    const { job, control } = newJob();
    persistJob(store, job, { channelId: '33', interaction: { token: 't', expiresAt: 99 }, parent: null });
    expect(store.get(job.id)).toMatchObject({ state: 'queued', ownerId: '11', guildId: '22', channelId: '33', params: spec.params, interaction: { token: 't', expiresAt: 99 } });

    control.dispatch('comfy-1', 'prompt-1');
    expect(store.get(job.id)).toMatchObject({ state: 'dispatched', promptId: 'prompt-1', backend: 'comfy-1', attempts: 1 });
    control.start();
    expect(store.get(job.id)?.state).toBe('running');
    control.succeed([output]);
    expect(store.get(job.id)).toMatchObject({
      state: 'succeeded',
      delivery: 'pending',
      outputs: [{ node: '9', kind: 'images', filename: 'x_00001_.png', subfolder: '', type: 'output' }],
    });
  });

  it('catches up with a job the scheduler dispatched inside submit', () => {
    const { job, control } = newJob();
    control.dispatch('comfy-1', 'prompt-early');
    persistJob(store, job, { channelId: null });
    expect(store.get(job.id)).toMatchObject({ state: 'dispatched', promptId: 'prompt-early', backend: 'comfy-1' });
  });

  it('keeps an existing row (a job recovery adopted) in step without replaying its start', () => {
    const { job: first, control: firstControl } = newJob();
    persistJob(store, first, { channelId: null });
    firstControl.dispatch('comfy-1', 'p-1');
    firstControl.start();
    // The restored job starts from dispatched again; its row already says running.
    const adopted = new Job({ ...spec, id: first.id }, 1000, { state: 'dispatched', backend: 'comfy-1', promptId: 'p-1', attempt: 1 });
    const control = new JobControl(adopted, () => 3000);
    const row = store.get(first.id)!;
    followPersisted(store, adopted, row, silentLogger);
    control.start();
    expect(store.get(first.id)?.state).toBe('running');
    control.succeed([]);
    expect(store.get(first.id)?.state).toBe('succeeded');
  });

  it('records a requeue, a server-chosen prompt id and a failure with its message', () => {
    const { job, control } = newJob();
    persistJob(store, job, { channelId: null });
    control.dispatch('comfy-1', 'prompt-1');
    control.promptAssigned('server-id');
    expect(store.get(job.id)?.promptId).toBe('server-id');
    control.requeue('backend lost');
    expect(store.get(job.id)).toMatchObject({ state: 'queued', backend: null });
    control.fail('KSampler failed: boom');
    expect(store.get(job.id)).toMatchObject({ state: 'failed', error: 'KSampler failed: boom' });
  });

  it('saves the image inputs so a reroll can load them again', () => {
    const { job } = newJob();
    persistJob(store, job, { channelId: null, images: [{ option: 'image', filename: 'in.png', mime: 'image/png', bytes: Buffer.from([7, 8]) }] });
    const [image] = store.get(job.id)!.images;
    expect(image).toMatchObject({ option: 'image', filename: 'in.png', mime: 'image/png' });
    expect(readFileSync(image!.path)).toEqual(Buffer.from([7, 8]));
  });

  it('stops following the job once it ended', async () => {
    const { job, control } = newJob();
    persistJob(store, job, { channelId: null });
    control.cancel();
    await job.done;
    expect(job.listenerCount('state')).toBe(0);
    expect(store.get(job.id)?.state).toBe('cancelled');
  });

  it('logs a store failure with what it was writing and lets the job run on', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'error', destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) });
    const broken: PersistenceStore = {
      insertJob: () => {
        throw new Error('disk full');
      },
      transition: () => true,
      updateJob: () => {
        throw new Error('unreachable');
      },
    };
    const { job, control } = newJob();
    const detach = persistJob(broken, job, { channelId: null }, logger);
    expect(() => control.dispatch('comfy-1', 'p')).not.toThrow();
    detach();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ job: job.id, msg: 'job store: could not record the new job', err: { message: 'disk full' } });
    expect(job.listenerCount('state')).toBe(0);
  });
});
