import { describe, expect, it } from 'vitest';
import type { OutputFile } from '../comfy/types.js';
import { Job, JobControl, type JobPosition, type JobSpec } from '../jobs/job.js';
import type { EncodedPreview } from '../media/preview.js';
import type { FinishOutcome, LiveView, PrepareView } from './cardEditor.js';
import type { CardFile, CardView } from './cardRenderer.js';
import type { DeliveryPlan } from './delivery.js';
import { deliverResults, followJobCard, type CardSink, type JobCardOptions, type PostedResults } from './jobCard.js';

const spec: JobSpec = {
  owner: { userId: 'u1', guildId: 'g1', roles: [] },
  command: 'imagine',
  workflow: { '3': { class_type: 'KSampler', inputs: {}, _meta: { title: 'Sampler' } } },
  params: { prompt: 'a cat' },
};

class RecordingSink implements CardSink {
  readonly updates: CardView[] = [];
  /** The prepare step of each update (null when the update had none). */
  readonly prepares: (PrepareView | null)[] = [];
  finished: { view: CardView; files: CardFile[] } | null = null;
  /** Builds a live view at once, as an editor free to send right away would. */
  update(view: CardView | LiveView, prepare?: PrepareView): void {
    this.updates.push('build' in view ? view.build() : view);
    this.prepares.push(prepare ?? null);
  }
  finish(view: CardView, files: CardFile[] = []): Promise<FinishOutcome> {
    this.finished = { view, files };
    return Promise.resolve({ delivered: true, via: 'edit' });
  }
  get last(): CardView['state'] | undefined {
    return this.updates.at(-1)?.state;
  }
}

const file = (name: string) => ({ name, mime: 'image/png', bytes: Buffer.from(name), kind: 'images' });

/** The expected end each live view handed to `sink` carried, in order (the sink still records every update). */
function expectedEndsHandedOn(sink: RecordingSink): (number | null | undefined)[] {
  const endsAt: (number | null | undefined)[] = [];
  const update = sink.update.bind(sink);
  sink.update = (view, prepare) => {
    if ('build' in view) endsAt.push(view.endsAt);
    update(view, prepare);
  };
  return endsAt;
}

function setup(overrides: Partial<JobCardOptions> = {}) {
  let clock = 10_000;
  const job = new Job(spec, clock);
  const control = new JobControl(job, () => clock);
  const sink = new RecordingSink();
  const posted: { names: string[]; batch: number; of: number }[] = [];
  const records: PostedResults[] = [];
  let position: JobPosition | undefined = { global: 2, user: 0, eta: 30_000, held: false };
  let queueSize = 5;
  const options: JobCardOptions = {
    job,
    editor: sink,
    base: { jobId: job.id, ownerId: 'u1', command: 'imagine', promptKey: 'prompt', params: { prompt: 'a cat' } },
    position: () => position,
    queueSize: () => queueSize,
    offerPreview: () => undefined,
    latestPreview: async () => null,
    planDelivery: async (outputs: readonly OutputFile[]): Promise<DeliveryPlan> => ({
      batches: [[file('a.png')], [file('b.png')]],
      notes: ['b.png: re-encoded'],
      leftOut: [],
      embedImage: 'a.png',
      summary: `${outputs.length} images`,
    }),
    postBatch: async (files, batch, of) => {
      posted.push({ names: files.map((f) => f.name), batch, of });
      return `m${batch}`;
    },
    limitBytes: 10,
    cardMessageId: () => 'card',
    record: (message) => void records.push(message),
    cancelledBy: () => 'u9',
    now: () => clock,
    ...overrides,
  };
  return {
    job,
    control,
    sink,
    posted,
    records,
    options,
    tick: (ms: number) => (clock += ms),
    setPosition: (p: JobPosition | undefined) => (position = p),
    setQueueSize: (n: number) => (queueSize = n),
  };
}

describe('followJobCard', () => {
  it('shows the place in the queue, then progress, node title and the latest preview, then the delivered outputs', async () => {
    const offered: Buffer[] = [];
    const encodes: string[] = [];
    let shown = 0;
    const { job, control, sink, posted, options, tick } = setup({
      offerPreview: (_id: string, bytes: Buffer) => void offered.push(bytes),
      latestPreview: async (): Promise<EncodedPreview | null> => {
        const newest = offered.at(-1);
        if (!newest) return null;
        encodes.push(String(newest));
        return { bytes: Buffer.concat([newest, Buffer.from('!')]), mime: 'image/webp', width: 8, height: 8 };
      },
      onPreviewShown: () => (shown += 1),
    });
    const following = followJobCard(options);
    expect(sink.last).toEqual({ kind: 'queued', position: 3, of: 5, etaSeconds: 30 });

    control.dispatch('comfy-1', 'p1');
    control.start();
    tick(4000);
    job.emit('progress', { value: 5, max: 20, node: '3', nodeTitle: 'Sampler' });
    expect(sink.last).toMatchObject({ kind: 'running', step: { value: 5, max: 20 }, nodeTitle: 'Sampler', elapsedSeconds: 4 });

    job.emit('preview', { mime: 'image/jpeg', bytes: Buffer.from('frame1') });
    job.emit('preview', { mime: 'image/jpeg', bytes: Buffer.from('frame2') });
    // Nothing is encoded on arrival: the update carries the step the editor runs right before sending.
    expect(encodes).toEqual([]);
    const prepare = sink.prepares.at(-1);
    expect(prepare).toBeTypeOf('function');
    const prepared = await prepare!();
    expect(encodes).toEqual(['frame2']);
    expect(prepared.state).toMatchObject({ kind: 'running', preview: { mime: 'image/webp', bytes: Buffer.from('frame2!') } });
    expect(shown).toBe(1);
    // Once encoded, later updates show that preview and need no step until a new frame comes.
    job.emit('progress', { value: 6, max: 20, node: '3', nodeTitle: 'Sampler' });
    expect(sink.prepares.at(-1)).toBeNull();
    expect(sink.last).toMatchObject({ kind: 'running', preview: { bytes: Buffer.from('frame2!') } });

    control.succeed([{ node: '9', ref: { filename: 'x.png', subfolder: '', type: 'output' }, kind: 'images', mime: 'image/png', bytes: Buffer.from('x') }]);
    const result = await following;
    expect(sink.finished?.view.state).toEqual({ kind: 'succeeded', summary: '1 images', notes: ['b.png: re-encoded'], elapsedSeconds: 4, imageName: 'a.png', outputCount: 1 });
    expect(sink.finished?.files.map((f) => f.name)).toEqual(['a.png']);
    expect(posted).toEqual([{ names: ['b.png'], batch: 2, of: 2 }]);
    expect(result).toEqual({ state: 'succeeded', outcome: { delivered: true, via: 'edit' }, delivered: ['a.png', 'b.png'], complete: true });
    expect(job.listenerCount('progress')).toBe(0);
  });

  it('says how long a running job has left, from the end expected when its state changed, and hands that end to the editor', () => {
    let asked = 0;
    const { control, sink, options, tick } = setup({ expectedEnd: () => (asked++, 10_000 + 9000) });
    const endsAt = expectedEndsHandedOn(sink);
    void followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    control.start();
    tick(3000);
    options.job.emit('progress', { value: 5, max: 20, node: '3', nodeTitle: null });
    expect(sink.last).toMatchObject({ kind: 'running', elapsedSeconds: 3, leftSeconds: 6 });
    expect(endsAt.at(-1)).toBe(19_000);
    // overrun: nothing is promised
    tick(7000);
    options.job.emit('progress', { value: 6, max: 20, node: '3', nodeTitle: null });
    expect(sink.last).not.toHaveProperty('leftSeconds');
    // asked when the job was dispatched and when it started, not at each progress step
    expect(asked).toBe(2);
  });

  it('promises no time left while no run of its command has finished', () => {
    const { control, sink, options } = setup({ expectedEnd: () => null });
    const endsAt = expectedEndsHandedOn(sink);
    void followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    control.start();
    options.job.emit('progress', { value: 7, max: 20, node: '3', nodeTitle: null });
    expect(sink.last).toMatchObject({ kind: 'running' });
    expect(sink.last).not.toHaveProperty('leftSeconds');
    expect(endsAt.at(-1)).toBeNull();
  });

  it('says when its ComfyUI server went away, and stops saying so when the server is back', () => {
    const { job, control, sink, options } = setup();
    void followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    job.emit('progress', { value: 1, max: 6, node: '3', nodeTitle: 'Sampler' });
    control.setWait({ reason: 'backend-unreachable', backend: 'comfy-1', since: 10_000 });
    expect(sink.last).toMatchObject({ kind: 'running', step: { value: 1, max: 6 }, outage: { kind: 'away' } });
    control.setWait(null);
    expect(sink.last).not.toHaveProperty('outage');
  });

  it('says the job moved to another backend after its own was lost, until it makes progress there', () => {
    const { job, control, sink, options } = setup();
    void followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    control.requeue('backend comfy-1 was lost');
    control.dispatch('comfy-2', 'p2');
    expect(sink.last).toMatchObject({ kind: 'running', outage: { kind: 'resumed', moved: true } });
    // Lost again before any progress: the queued card does not say it moved; sent again to the same server.
    control.requeue('backend comfy-2 was lost');
    expect(sink.last).not.toHaveProperty('outage');
    control.dispatch('comfy-2', 'p3');
    expect(sink.last).toMatchObject({ kind: 'running', outage: { kind: 'resumed', moved: false } });
    job.emit('progress', { value: 1, max: 6, node: '3', nodeTitle: 'Sampler' });
    expect(sink.last).not.toHaveProperty('outage');
  });

  it('a job waiting for a backend says so from the start, with how long it may wait', async () => {
    const { job, control, sink, options } = setup();
    control.setWait({ reason: 'no-backend', since: 10_000, until: 610_000 });
    void followJobCard(options);
    expect(sink.last).toEqual({ kind: 'queued', position: 3, of: 5, etaSeconds: 30, outage: { kind: 'waiting', upToSeconds: 600 } });
    control.setWait(null);
    expect(sink.last).toEqual({ kind: 'queued', position: 3, of: 5, etaSeconds: 30 });
    control.fail('all backends are down: no ComfyUI server able to run it came back within 10 minutes');
    await Promise.resolve();
    expect(job.final).toBe(true);
  });

  it('lists the model chosen on the backend once the job is dispatched, and again after a requeue', async () => {
    const { control, sink, options } = setup();
    const following = followJobCard(options);
    expect(sink.updates.at(-1)?.params).toEqual({ prompt: 'a cat' });
    control.dispatch('comfy-1', 'p1', { model: 'other.safetensors' });
    expect(sink.updates.at(-1)?.params).toEqual({ prompt: 'a cat', model: 'other.safetensors' });
    control.requeue('backend lost');
    expect(sink.updates.at(-1)?.params).toEqual({ prompt: 'a cat' });
    control.dispatch('comfy-2', 'p2', { model: 'v1-5.safetensors' });
    control.fail('out of memory');
    await following;
    expect(sink.finished?.view.params).toEqual({ prompt: 'a cat', model: 'v1-5.safetensors' });
  });

  it('forgets the old run’s progress when the job goes back to the queue', async () => {
    const { job, control, sink, options, setPosition } = setup();
    void followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    job.emit('progress', { value: 5, max: 20, node: '3', nodeTitle: 'Sampler' });
    setPosition({ global: 0, user: 0, eta: null, held: false });
    control.requeue('backend lost');
    expect(sink.last).toEqual({ kind: 'queued', position: 1, of: 5, etaSeconds: null });
    control.dispatch('comfy-1', 'p2');
    expect(sink.last).toMatchObject({ kind: 'running', step: null, nodeTitle: null, preview: null });
    control.cancel();
  });

  it('ends on the failure in plain words, or on who cancelled', async () => {
    const failing = setup();
    const failed = followJobCard(failing.options);
    failing.control.fail('ComfyUI refused the workflow: steps: 80 is above the maximum 50');
    expect((await failed).state).toBe('failed');
    expect(failing.sink.finished?.view.state).toEqual({ kind: 'failed', message: 'ComfyUI refused the workflow: steps: 80 is above the maximum 50' });

    const cancelling = setup();
    const cancelled = followJobCard(cancelling.options);
    cancelling.control.cancel();
    expect(await cancelled).toMatchObject({ state: 'cancelled' });
    expect(cancelling.sink.finished?.view.state).toEqual({ kind: 'cancelled', byUserId: 'u9' });
  });

  it('skips a preview that cannot be re-encoded and keeps the card going', async () => {
    let shown = 0;
    const { job, control, sink, options } = setup({
      latestPreview: () => Promise.reject(new Error('corrupt frame')),
      onPreviewShown: () => (shown += 1),
    });
    const following = followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    job.emit('preview', { mime: 'image/jpeg', bytes: Buffer.from('bad') });
    const prepared = await sink.prepares.at(-1)!();
    expect(prepared.state).toMatchObject({ kind: 'running', preview: null });
    expect(shown).toBe(0);
    control.fail('stopped');
    expect((await following).state).toBe('failed');
  });

  it('edits a queued card only when its position or the ETA as shown changes', () => {
    const { job, control, sink, options, setQueueSize } = setup();
    void followJobCard(options);
    expect(sink.updates).toHaveLength(1);
    setQueueSize(9);
    job.emit('position', { global: 2, user: 0, eta: 30_200, held: false });
    expect(sink.updates).toHaveLength(1);
    job.emit('position', { global: 2, user: 0, eta: 41_000, held: false });
    expect(sink.last).toEqual({ kind: 'queued', position: 3, of: 9, etaSeconds: 41 });
    job.emit('position', { global: 1, user: 0, eta: 41_000, held: false });
    expect(sink.last).toEqual({ kind: 'queued', position: 2, of: 9, etaSeconds: 41 });
    expect(sink.updates).toHaveLength(3);
    control.cancel();
  });

  it('names a batch that could not be posted instead of claiming it was delivered', async () => {
    const { control, options, records } = setup({ postBatch: () => Promise.reject(new Error('Missing Permissions')) });
    const following = followJobCard(options);
    control.dispatch('comfy-1', 'p1');
    control.succeed([]);
    expect(await following).toMatchObject({ state: 'succeeded', delivered: ['a.png'], complete: false });
    expect(records).toEqual([{ messageId: 'card', files: ['a.png'], complete: false }]);
  });
});

describe('deliverResults', () => {
  const threeBatches = async (): Promise<DeliveryPlan> => ({
    batches: [[file('a.png')], [file('b.png')], [file('c.png')]],
    notes: [],
    leftOut: [],
    embedImage: 'a.png',
    summary: '3 images',
  });

  it('records every message as it is posted, the last one completing the delivery', async () => {
    const { options, posted, records } = setup({ planDelivery: threeBatches });
    const result = await deliverResults(options, [], 12);
    expect(result).toMatchObject({ delivered: ['a.png', 'b.png', 'c.png'], complete: true });
    expect(posted.map((p) => `${p.batch}/${p.of}`)).toEqual(['2/3', '3/3']);
    expect(records).toEqual([
      { messageId: 'card', files: ['a.png'], complete: false },
      { messageId: 'm2', files: ['b.png'], complete: false },
      { messageId: 'm3', files: ['c.png'], complete: true },
    ]);
  });

  it('skips the card and every batch an earlier attempt posted, even if spoilers were turned on since', async () => {
    const spoilered = async (): Promise<DeliveryPlan> => {
      const plan = await threeBatches();
      return { ...plan, batches: plan.batches.map((files) => files.map((f) => ({ ...f, name: `SPOILER_${f.name}` }))) };
    };
    const { options, posted, records, sink } = setup({ planDelivery: spoilered, posted: new Set(['a.png', 'b.png']) });
    const result = await deliverResults(options, [], null);
    expect(sink.finished).toBeNull();
    expect(posted.map((p) => p.batch)).toEqual([3]);
    expect(records).toEqual([{ messageId: 'm3', files: ['SPOILER_c.png'], complete: true }]);
    expect(result).toMatchObject({ outcome: { delivered: true, via: 'earlier' }, complete: true });
  });

  it('counts what was posted per file: a batch mixing posted and unposted files carries only the unposted', async () => {
    const mixed = async (): Promise<DeliveryPlan> => ({
      batches: [[file('a.png'), file('b.png')], [file('c.png'), file('d.png')], [file('e.png')]],
      notes: [],
      leftOut: [],
      embedImage: 'a.png',
      summary: '5 images',
    });
    const { options, posted, records, sink } = setup({ planDelivery: mixed, posted: new Set(['a.png', 'b.png', 'c.png']) });
    const result = await deliverResults(options, [], null);
    expect(sink.finished).toBeNull();
    expect(posted).toEqual([
      { names: ['d.png'], batch: 2, of: 3 },
      { names: ['e.png'], batch: 3, of: 3 },
    ]);
    expect(records.flatMap((r) => r.files)).toEqual(['d.png', 'e.png']);
    expect(result).toMatchObject({ delivered: ['d.png', 'e.png'], complete: true });
  });

  it('leaves a card that landed with part of its batch as it is and posts the rest of that batch on its own', async () => {
    const mixed = async (): Promise<DeliveryPlan> => ({
      batches: [[file('a.png'), file('b.png')], [file('c.png')]],
      notes: [],
      leftOut: [],
      embedImage: 'a.png',
      summary: '3 images',
    });
    const { options, posted, sink } = setup({ planDelivery: mixed, posted: new Set(['a.png']) });
    expect((await deliverResults(options, [], null)).complete).toBe(true);
    expect(sink.finished).toBeNull();
    expect(posted).toEqual([
      { names: ['b.png'], batch: 1, of: 2 },
      { names: ['c.png'], batch: 2, of: 2 },
    ]);
  });

  it('completes a delivery whose every batch was posted but not marked complete', async () => {
    const { options, posted, records, sink } = setup({ planDelivery: threeBatches, posted: new Set(['a.png', 'b.png', 'c.png']) });
    expect((await deliverResults(options, [], null)).complete).toBe(true);
    expect(sink.finished).toBeNull();
    expect(posted).toEqual([]);
    expect(records).toEqual([{ messageId: 'card', files: [], complete: true }]);
  });

  it('leaves the results pending when the card was not delivered and there is no other way', async () => {
    const editor: CardSink = { update: () => undefined, finish: async () => ({ delivered: false, reason: '503' }) };
    const { options, posted, records } = setup({ planDelivery: threeBatches, editor, detour: () => null });
    expect(await deliverResults(options, [], null)).toEqual({ outcome: { delivered: false, reason: '503' }, delivered: [], complete: false });
    expect(posted).toEqual([]);
    expect(records).toEqual([]);
  });

  it('sends the card and every file by the detour, planned again for its upload limit', async () => {
    const editor: CardSink = { update: () => undefined, finish: async () => ({ delivered: false, reason: 'Missing Access' }) };
    const limits: number[] = [];
    const sent: { title: string | null; names: string[]; batch: number; of: number }[] = [];
    const { options, posted, records } = setup({
      editor,
      planDelivery: async (_outputs, limitBytes) => {
        limits.push(limitBytes);
        return threeBatches();
      },
      detour: () => ({
        limitBytes: 7,
        post: async ({ view, files, batch, of }) => {
          sent.push({ title: view?.state.kind ?? null, names: files.map((f) => f.name), batch, of });
          return `dm${batch}`;
        },
      }),
    });
    expect((await deliverResults(options, [], null)).complete).toBe(true);
    expect(limits).toEqual([10, 7]);
    expect(posted).toEqual([]);
    expect(sent).toEqual([
      { title: 'succeeded', names: ['a.png'], batch: 1, of: 3 },
      { title: null, names: ['b.png'], batch: 2, of: 3 },
      { title: null, names: ['c.png'], batch: 3, of: 3 },
    ]);
    expect(records.map((r) => [r.messageId, r.complete])).toEqual([['dm1', false], ['dm2', false], ['dm3', true]]);
  });

  it('keeps the results pending when the detour fails too', async () => {
    const editor: CardSink = { update: () => undefined, finish: async () => ({ delivered: false, reason: 'Missing Access' }) };
    const { options, records } = setup({
      editor,
      planDelivery: threeBatches,
      detour: () => ({ limitBytes: 7, post: () => Promise.reject(new Error('Cannot send messages to this user')) }),
    });
    expect((await deliverResults(options, [], null)).complete).toBe(false);
    expect(records).toEqual([]);
  });
});

