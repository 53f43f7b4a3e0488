// A model left to the command's preference, across the store: the model chosen at dispatch is written with the
// bound workflow, a requeue takes it out again, and a rebuilt row chooses again only if no dispatch recorded one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command, sampleWorkflow } from '../../test/templates/support.js';
import { prepareJob } from '../templates/prepare.js';
import { Job, JobControl } from './job.js';
import { persistJob } from './persistence.js';
import { specFromRow } from './recovery-spec.js';
import { openJobStore, type JobStore } from './store.js';
import { jobSpecFromPrepared } from './spec.js';

const imagine = command(`
name: imagine
description: d
template: t.json
options:
  - {name: prompt, type: string, required: true, target: Positive Prompt.text}
  - {name: model, type: choice, choices_from: models/checkpoints, default: {prefer: [v1-5.safetensors], else: first}, target: Load Checkpoint.ckpt_name}
`);
const owner = { userId: '11', guildId: '22', roles: [] };
const lookup = (name: string) => (name === 'imagine' ? imagine : undefined);

let dir: string;
let store: JobStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-choice-'));
  store = openJobStore({ dataDir: dir });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function newJob(): { job: Job; control: JobControl } {
  const job = new Job(jobSpecFromPrepared(prepareJob(imagine, { prompt: 'a cat' }), owner), 1000);
  persistJob(store, job, { channelId: null });
  return { job, control: new JobControl(job, () => 2000) };
}

describe('a pending model choice in the store', () => {
  it('is written at dispatch with the bound workflow, and taken out by a requeue', () => {
    const { job, control } = newJob();
    expect(store.get(job.id)?.params).toEqual({ prompt: 'a cat' });
    control.dispatch('comfy-1', 'p-1', { model: 'other.safetensors' });
    const dispatched = store.get(job.id)!;
    expect(dispatched.params).toEqual({ prompt: 'a cat', model: 'other.safetensors' });
    expect(dispatched.workflow['4']?.inputs.ckpt_name).toBe('other.safetensors');
    control.requeue('backend lost');
    expect(store.get(job.id)?.params).toEqual({ prompt: 'a cat' });
    expect(job.params).toEqual({ prompt: 'a cat' });
  });

  it('is rebuilt as pending for a row no dispatch chose a model for', () => {
    const { job } = newJob();
    const rebuilt = specFromRow(store.get(job.id)!, [], lookup);
    expect(rebuilt.ok && rebuilt.spec.choices).toEqual([
      { option: 'model', folder: 'checkpoints', target: expect.objectContaining({ nodeId: '4', input: 'ckpt_name' }), preference: { prefer: ['v1-5.safetensors'], fallback: 'first' } },
    ]);
  });

  it('is not rebuilt for a row that was dispatched: the run keeps the model it was submitted with', () => {
    const { job, control } = newJob();
    control.dispatch('comfy-1', 'p-1', { model: 'other.safetensors' });
    const rebuilt = specFromRow(store.get(job.id)!, [], lookup);
    expect(rebuilt.ok && rebuilt.spec.choices).toBeUndefined();
    expect(rebuilt.ok && rebuilt.spec.workflow['4']?.inputs.ckpt_name).toBe('other.safetensors');
    expect(rebuilt.ok && rebuilt.spec.params).toEqual({ prompt: 'a cat', model: 'other.safetensors' });
  });

  it('fails a row whose workflow no longer has the input the command now chooses a model for', () => {
    const { job } = newJob();
    const row = { ...store.get(job.id)!, workflow: { ...sampleWorkflow(), '4': { class_type: 'UNETLoader', inputs: { unet_name: 'x' } } } };
    expect(specFromRow(row, [], lookup)).toEqual({
      ok: false,
      problem: `/imagine now puts model "model" into Load Checkpoint.ckpt_name, which this job's workflow does not have`,
    });
  });
});
