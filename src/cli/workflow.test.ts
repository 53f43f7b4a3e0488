// `comfycord workflow` in-process against a scripted ComfyUI that replays recorded traffic.
import { UI_FORMAT_HELP } from '../comfy/workflow.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownerFrames, play, recordedPrompt } from '../../test/comfy/harness.js';
import { StubServer } from '../../test/comfy/stub-server.js';
import { startFakeComfy } from '../../test/fakes/comfy/index.js';
import { httpExchanges } from '../../test/fakes/comfy/transcripts.js';
import { memoryIO } from './io.js';
import { progressBar } from './progress.js';
import { run } from './workflow.js';

let stub: StubServer;
let dir: string;

beforeEach(async () => {
  stub = await StubServer.start();
  dir = await mkdtemp(join(tmpdir(), 'comfycord-workflow-'));
});

afterEach(async () => {
  await stub.close();
  await rm(dir, { recursive: true, force: true });
});

const apiWorkflow = { '1': { class_type: 'EmptyImage', inputs: { width: 64 } }, '9': { class_type: 'SaveImage', inputs: { images: ['1', 0] } } };
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]);

async function writeJson(name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** Serves transcript 20 (KSampler with progress and previews) for whatever the CLI submits. */
function serveRecordedRun(): string {
  const { transcript, answer, history } = recordedPrompt('20');
  const socket = stub.nextSocket();
  stub.route('POST', '/api/prompt', async () => {
    play(await socket, ownerFrames(transcript, answer.prompt_id));
    return { json: answer };
  });
  stub.route('GET', `/api/history/${answer.prompt_id}`, () => ({ json: { [answer.prompt_id]: history } }));
  stub.route('GET', '/api/view', () => ({ bytes: PNG, headers: { 'content-type': 'image/png' } }));
  const [file] = Object.values(history?.outputs ?? {}).flatMap((o) => (o.images as Array<{ filename: string }>) ?? []);
  return file?.filename ?? '';
}

describe('comfycord workflow', () => {
  it('prints JSON lines and writes every output into --out', async () => {
    const filename = serveRecordedRun();
    const file = await writeJson('wf.json', apiWorkflow);
    const io = memoryIO({ COMFY_URL: stub.url });
    const out = join(dir, 'out');
    expect(await run([file, '--out', out, '--json'], io)).toBe(0);
    const events = io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('queued');
    expect(types.at(-1)).toBe('done');
    expect(events.find((e) => e.type === 'progress')).toMatchObject({ node: expect.any(String), value: 1, max: expect.any(Number) });
    expect(events.find((e) => e.type === 'preview')).toMatchObject({ mime: 'image/jpeg', bytes: expect.any(Number) });
    const output = events.find((e) => e.type === 'output');
    expect(output).toEqual({ type: 'output', node: expect.any(String), path: join(out, filename) });
    expect(await readFile(join(out, filename))).toEqual(PNG);
    expect(io.err()).toBe('');
  });

  it('draws a progress bar on a terminal and accepts the {prompt: ...} wrapper', async () => {
    serveRecordedRun();
    const file = await writeJson('wrapped.json', { prompt: apiWorkflow });
    const io = memoryIO({}, true);
    expect(await run([file, '--server', stub.url, '--out', dir], io)).toBe(0);
    expect(io.out()).toContain('\r[');
    expect(io.out()).toMatch(/done\n$/);
  });

  it('explains a UI-format workflow', async () => {
    const file = await writeJson('ui.json', { nodes: [], links: [], last_node_id: 0 });
    const io = memoryIO({ COMFY_URL: stub.url });
    expect(await run([file, '--out', dir], io)).toBe(1);
    expect(io.err()).toBe(`error: ${UI_FORMAT_HELP}\n`);
    expect(io.err()).toMatch(/UI-format workflow .*Workflow → Export \(API\)/);
    expect(stub.requestsTo('POST', '/api/prompt')).toHaveLength(0);
  });

  it('reports a missing file and bad JSON in one line', async () => {
    const io = memoryIO();
    expect(await run([join(dir, 'nope.json'), '--out', dir], io)).toBe(1);
    expect(io.err()).toBe(`error: ${join(dir, 'nope.json')}: no such file\n`);
    const bad = await writeJson('bad.json', '{"1": ');
    const io2 = memoryIO();
    expect(await run([bad, '--out', dir, '--json'], io2)).toBe(1);
    expect(JSON.parse(io2.out())).toMatchObject({ type: 'error', message: expect.stringContaining('bad.json is not valid JSON') });
  });

  it('says when the server cannot be reached', async () => {
    const file = await writeJson('wf.json', apiWorkflow);
    const url = stub.url;
    await stub.close();
    const io = memoryIO({ COMFY_URL: url });
    expect(await run([file, '--out', dir], io)).toBe(1);
    expect(io.err()).toContain(`cannot reach ComfyUI at ${url}: ECONNREFUSED`);
    stub = await StubServer.start(); // for afterEach
  });

  it('lists validation errors readably', async () => {
    const rejection = httpExchanges(recordedPrompt('05').transcript, 'POST', '/prompt').find((l) => l.status === 400);
    stub.route('POST', '/api/prompt', () => ({ status: 400, json: rejection?.response_json }));
    const file = await writeJson('wf.json', apiWorkflow);
    const io = memoryIO({ COMFY_URL: stub.url });
    expect(await run([file, '--out', dir], io)).toBe(1);
    expect(io.err()).toBe('error: the server rejected the workflow: EmptyImage.width: -5 is below the minimum 1\n');
  });

  it('reports a run-time failure with node and exception', async () => {
    const { transcript, answer } = recordedPrompt('10');
    const socket = stub.nextSocket();
    stub.route('POST', '/api/prompt', async () => {
      play(await socket, ownerFrames(transcript, answer.prompt_id));
      return { json: answer };
    });
    const file = await writeJson('wf.json', apiWorkflow);
    const io = memoryIO({ COMFY_URL: stub.url });
    expect(await run([file, '--out', dir], io)).toBe(1);
    expect(io.err()).toBe('error: the workflow failed: SaveImage (node 3): Exception: **** ERROR: Saving image outside the output folder is not allowed.\n');
  });

  it('rejects bad command lines with usage', async () => {
    const io = memoryIO();
    expect(await run(['wf.json'], io)).toBe(2);
    expect(io.err()).toContain('--out DIR is missing');
    const io2 = memoryIO();
    expect(await run(['wf.json', '--out', dir, '--bogus'], io2)).toBe(2);
    expect(io2.err()).toContain('unknown option --bogus');
  });

  it('refuses a COMFY_URL that names several servers, as run and check do', async () => {
    const io = memoryIO({ COMFY_URL: 'http://a:1,http://b:2' });
    await expect(run(['wf.json', '--out', dir], io)).rejects.toThrow('COMFY_URL lists several servers ("http://a:1,http://b:2"); pick one with --server URL');
  });
});

describe('comfycord workflow against the fake ComfyUI', () => {
  it('runs a recorded workflow, prints JSON lines and writes the PNG', async () => {
    const fake = await startFakeComfy();
    try {
      const recorded = httpExchanges(recordedPrompt('03').transcript, 'POST', '/prompt')[0]?.request_json as { prompt: unknown };
      const file = await writeJson('fake.json', recorded.prompt);
      const io = memoryIO({ COMFY_URL: fake.url });
      const out = join(dir, 'fake-out');
      expect(await run([file, '--out', out, '--json'], io)).toBe(0);
      const events = io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; path?: string });
      expect(events.map((e) => e.type)).toEqual(['queued', 'output', 'done']);
      const written = await readFile(events[1]?.path ?? '');
      expect(written.subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await fake.close();
    }
  });
});

describe('progressBar', () => {
  it('fills in proportion and clamps', () => {
    expect(progressBar(0, 4)).toBe(`[${'-'.repeat(24)}] 0/4`);
    expect(progressBar(2, 4)).toBe(`[${'#'.repeat(12)}${'-'.repeat(12)}] 2/4`);
    expect(progressBar(9, 4)).toBe(`[${'#'.repeat(24)}] 9/4`);
    expect(progressBar(1, 0)).toBe(`[${'-'.repeat(24)}] 1/0`);
  });
});
