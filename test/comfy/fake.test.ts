// ComfyClient against the project's fake ComfyUI (test/fakes/comfy): every profile and fault switch.
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyClient, type ComfyClientOptions } from '../../src/comfy/client.js';
import { ComfyHttpError } from '../../src/comfy/errors.js';
import type { PromptRun } from '../../src/comfy/prompt.js';
import type { ApiWorkflow, PromptEvent } from '../../src/comfy/types.js';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../fakes/comfy/index.js';
import { collect } from './harness.js';
import { httpExchanges, loadTranscript } from '../fakes/comfy/transcripts.js';

let fake: FakeComfy | undefined;
const clients: ComfyClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await fake?.close();
  fake = undefined;
});

/** The n-th workflow a transcript submitted. */
function recordedWorkflow(transcript: string, index = 0): ApiWorkflow {
  const post = httpExchanges(loadTranscript(transcript), 'POST', '/prompt').filter((l) => l.status === 200)[index];
  return structuredClone((post?.request_json as { prompt: ApiWorkflow }).prompt);
}

const invert = () => recordedWorkflow('03');
const ksampler = () => recordedWorkflow('20');
const longJob = () => recordedWorkflow('08');

async function setup(options: FakeComfyOptions = {}, clientOptions: Partial<ComfyClientOptions> = {}): Promise<{ fake: FakeComfy; c: ComfyClient }> {
  fake = await startFakeComfy(options);
  const c = new ComfyClient({
    name: 'fake',
    url: fake.url,
    reconnect: { minMs: 5, maxMs: 50 },
    historyRetryMs: [10, 20, 40, 80, 160, 320],
    successGraceMs: 200,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...clientOptions,
  });
  clients.push(c);
  await c.connect();
  return { fake, c };
}

/** Freezes execution right after the first node starts (the next node or step then waits). */
function holdAtFirstNode(f: FakeComfy): Promise<void> {
  return new Promise((resolve) => {
    f.events.once('node-start', () => {
      f.hold();
      resolve();
    });
  });
}

/** Submits `workflow` and resolves once the fake holds it at its first node. */
async function submitHeld(f: FakeComfy, c: ComfyClient, workflow: ApiWorkflow): Promise<PromptRun> {
  const held = holdAtFirstNode(f);
  const run = await c.submit(workflow);
  await held;
  return run;
}

/** Drops every socket of a held fake, waits for the client to reconnect, then lets execution go on. */
async function dropAndReconnect(f: FakeComfy): Promise<void> {
  const reconnected = f.next('ws-connected');
  f.faults.dropSockets();
  await reconnected;
  f.release();
}

const types = (events: PromptEvent[]) => events.map((e) => e.type);

describe('v0.3.64 profile', () => {
  it('runs a workflow to done and downloads its PNG', async () => {
    const { c } = await setup();
    const run = await c.submit(invert());
    const events = collect(run);
    const end = await run.finished;
    expect(end.type).toBe('done');
    expect(types(events)).toEqual(['queued', 'started', 'node', 'node', 'node', 'output', 'done']);
    if (end.type !== 'done') return;
    const files = await c.downloadOutputs(end.outputs);
    expect(files).toHaveLength(1);
    expect(files[0]?.mime).toBe('image/png');
  });

  it('finishes a fully cached re-run (no executing) with the earlier outputs', async () => {
    const { c } = await setup();
    const first = await (await c.submit(invert())).finished;
    const run = await c.submit(invert());
    const events = collect(run);
    const end = await run.finished;
    expect(end.type).toBe('done');
    expect(events.some((e) => e.type === 'node')).toBe(false);
    expect(events.find((e) => e.type === 'cached')).toMatchObject({ nodes: expect.arrayContaining(['1', '2', '3']) });
    if (end.type === 'done' && first.type === 'done') expect(end.outputs).toEqual(first.outputs);
  });

  it('streams progress and type-4 previews of a sampler', async () => {
    const { c } = await setup({ models: { checkpoints: ['random-sd15-fp16.safetensors'] } });
    const run = await c.submit(ksampler());
    const events = collect(run);
    expect((await run.finished).type).toBe('done');
    const progress = events.filter((e) => e.type === 'progress');
    const previews = events.filter((e) => e.type === 'preview');
    expect(progress.length).toBeGreaterThan(0);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]).toMatchObject({ mime: 'image/jpeg', node: expect.any(String) });
  });

  it('reports a run-time error', async () => {
    const { c } = await setup();
    const end = await (await c.submit(recordedWorkflow('10'))).finished;
    expect(end).toMatchObject({ type: 'failed', reason: { kind: 'execution', failure: { nodeType: 'SaveImage' } } });
  });

  it('rejects an invalid workflow with readable reasons', async () => {
    const { c } = await setup();
    const wf = invert();
    (wf['1'] as { inputs: Record<string, unknown> }).inputs.width = -5;
    await expect(c.submit(wf)).rejects.toThrow('EmptyImage.width: -5 is below the minimum 1');
  });

  it('ignores unknown JSON and binary frames and delivers text frames to the running prompt', async () => {
    const { fake, c } = await setup();
    const held = holdAtFirstNode(fake);
    const run = await c.submit(invert());
    const events = collect(run);
    await held;
    fake.faults.sendUnknownJson();
    fake.faults.sendUnknownBinary();
    fake.faults.sendTextFrame('2', 'thinking…');
    fake.release();
    expect((await run.finished).type).toBe('done');
    expect(events).toContainEqual({ type: 'text', promptId: run.promptId, node: '2', text: 'thinking…' });
  });

  it('interrupts only its own running prompt, by id', async () => {
    const { fake, c } = await setup();
    const run = await submitHeld(fake, c, longJob());
    expect(await c.cancel(run.promptId)).toBe('interrupted');
    fake.release();
    expect(await run.finished).toEqual({ type: 'interrupted', promptId: run.promptId });
    const interrupts = fake.requests.filter((r) => r.path.endsWith('/interrupt'));
    expect(interrupts.map((r) => r.body)).toEqual([{ prompt_id: run.promptId }]);
  });

  it('removes a pending prompt from the queue without touching the running one', async () => {
    const { fake, c } = await setup();
    const running = await submitHeld(fake, c, longJob());
    const pending = await c.submit(invert());
    expect(await c.cancel(pending.promptId)).toBe('dequeued');
    expect(await pending.finished).toEqual({ type: 'interrupted', promptId: pending.promptId });
    expect(await c.cancel('no-such-prompt')).toBe('not-found');
    fake.release();
    expect((await running.finished).type).toBe('done');
    expect(fake.requests.some((r) => r.path.endsWith('/interrupt'))).toBe(false);
  });

  it('surfaces a plain-text 500', async () => {
    const { fake, c } = await setup();
    fake.faults.failNext('/prompt', 500, '500 Internal Server Error\n\nServer got itself in trouble');
    const err = await c.submit(invert()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComfyHttpError);
    expect((err as Error).message).toContain('HTTP 500: 500 Internal Server Error');
  });
});

describe('faults', () => {
  it('survives a socket drop mid-run: reconnects and still finishes', async () => {
    const { fake, c } = await setup();
    const run = await submitHeld(fake, c, invert());
    await dropAndReconnect(fake);
    await expect(run.finished).resolves.toMatchObject({ type: 'done' });
  });

  it('finds a completion that happened while disconnected', async () => {
    const { fake, c } = await setup({}, { reconnect: { minMs: 100, maxMs: 200 } });
    const run = await submitHeld(fake, c, invert());
    fake.faults.dropSockets();
    const done = fake.next('prompt-done');
    fake.release();
    await done; // finished before the client is back
    await expect(run.finished).resolves.toMatchObject({ type: 'done' });
  });

  it('fails a prompt as lost when the server restarts', async () => {
    const { fake, c } = await setup();
    const run = await submitHeld(fake, c, longJob());
    await fake.restart();
    const end = await run.finished;
    expect(end).toMatchObject({ type: 'failed', reason: { kind: 'lost' } });
  });

  it('waits for a history entry written after execution_success', async () => {
    const { fake, c } = await setup();
    fake.faults.delayHistoryWrite(true);
    const end = await (await c.submit(invert())).finished;
    expect(end.type).toBe('done');
    if (end.type === 'done') expect(Object.keys(end.outputs)).toEqual(['3']);
  });

  it('finishes through the stall watchdog when the socket goes silent', async () => {
    const { fake, c } = await setup({}, { stallMs: 50 });
    fake.faults.stallSockets(true);
    const end = await (await c.submit(invert())).finished;
    expect(end.type).toBe('done');
    expect(fake.requests.some((r) => r.path.includes('/history/'))).toBe(true);
  });

  it('finishes despite the reconnect bug that unregisters the new socket (ComfyUI#16010)', async () => {
    const { fake, c } = await setup({}, { stallMs: 50 });
    fake.faults.reconnectBug(true);
    const run = await submitHeld(fake, c, invert());
    await dropAndReconnect(fake);
    await expect(run.finished).resolves.toMatchObject({ type: 'done' });
  });
});

describe('other profiles', () => {
  it('new: cancels through the jobs API', async () => {
    const { fake, c } = await setup({ profile: 'new' });
    expect((await c.capabilities()).jobsApi).toBe(true);
    const run = await submitHeld(fake, c, longJob());
    expect(await c.cancel(run.promptId)).toBe('interrupted');
    fake.release();
    expect(await run.finished).toEqual({ type: 'interrupted', promptId: run.promptId });
    expect(fake.requests.some((r) => r.path === `/api/jobs/${run.promptId}/cancel`)).toBe(true);
  });

  it('legacy: reads the server-chosen prompt id and never interrupts a foreign job', async () => {
    const { fake, c } = await setup({ profile: 'legacy' });
    const caps = await c.capabilities();
    expect(caps.targetedInterrupt).toBe(false);
    const held = holdAtFirstNode(fake);
    const foreign = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: longJob() }) });
    expect(foreign.status).toBe(200);
    await held;
    const mine = await c.submit(invert(), { promptId: '11111111-1111-4111-8111-111111111111' });
    expect(mine.promptId).not.toBe('11111111-1111-4111-8111-111111111111');
    expect(await c.cancel(mine.promptId)).toBe('dequeued');
    expect(fake.requests.some((r) => r.path.endsWith('/interrupt'))).toBe(false);
    fake.release();
  });

  it('cloud: key on every request and on the socket, outputs fetched from the signed host without it', async () => {
    const { c } = await setup({ profile: 'cloud', apiKey: 'cloud-key' });
    const end = await (await c.submit(invert())).finished;
    expect(end.type).toBe('done');
    if (end.type !== 'done') return;
    const [file] = await c.downloadOutputs(end.outputs);
    expect(file?.mime).toBe('image/png');
    expect((await c.capabilities()).cloud).toBe(true);
  });
});
