import { describe, expect, it } from 'vitest';
import { http, RecordingSocket } from './client.js';
import { startFakeComfy } from './index.js';
import { useFakeComfy } from './session.js';

const comfy = useFakeComfy();

function open(clientId: string, flags?: Record<string, unknown>): Promise<RecordingSocket> {
  return comfy.open({ clientId, flags });
}

const PROMPT = {
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 7 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'faults' } },
};

async function submit(clientId: string, color = 7): Promise<string> {
  const prompt = structuredClone(PROMPT);
  prompt['1'].inputs.color = color;
  const response = await http(comfy.fake.url, 'POST', '/prompt', { prompt, client_id: clientId });
  expect(response.status, response.text).toBe(200);
  return (response.json as { prompt_id: string }).prompt_id;
}

describe('fault switches', () => {
  it('failNext answers one matching request (at /x or /api/x) with the given status, then behaves again', async () => {
    const fake = await comfy.start();
    fake.faults.failNext('/prompt', 500);
    const failed = await http(fake.url, 'POST', '/api/prompt', { prompt: PROMPT });
    expect(failed.status).toBe(500);
    expect(failed.text).toBe('500 Internal Server Error\n\nServer got itself in trouble');
    expect((await http(fake.url, 'POST', '/prompt', { prompt: PROMPT })).status).toBe(200);
    fake.faults.failNext(/^\/system_stats$/, 503, { error: 'busy' });
    const json = await http(fake.url, 'GET', '/system_stats');
    expect(json).toMatchObject({ status: 503, json: { error: 'busy' } });
    fake.faults.failNext('/queue', 502, 'Bad Gateway');
    expect(await http(fake.url, 'GET', '/queue')).toMatchObject({ status: 502, text: 'Bad Gateway' });
  });

  it('dropSockets closes every socket abruptly mid-run; the prompt still finishes into history', async () => {
    const fake = await comfy.start();
    const socket = await open('drop');
    fake.hold();
    const promptId = await submit('drop');
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_cached');
    fake.faults.dropSockets();
    expect(await socket.closed).toBe(1006);
    const done = fake.next('prompt-done');
    fake.release();
    expect(await done).toEqual([promptId, 'success']);
    expect(Object.keys((await http(fake.url, 'GET', `/history/${promptId}`)).json as object)).toEqual([promptId]);
  });

  it('stallSockets keeps sockets open but silent while execution continues', async () => {
    const fake = await comfy.start();
    const socket = await open('stall');
    fake.faults.stallSockets(true);
    const done = fake.next('prompt-done');
    const promptId = await submit('stall');
    await done;
    expect(socket.labels()).toEqual(['status']);
    expect(fake.history.has(promptId)).toBe(true);
    fake.faults.stallSockets(false);
    const next = await submit('stall', 8);
    await socket.finished(next);
    expect(socket.texts('execution_start').map((m) => m.data['prompt_id'])).toEqual([next]);
  });

  it('delayHistoryWrite: history is {} after execution_success and written before executing:null', async () => {
    const fake = await comfy.start();
    fake.faults.delayHistoryWrite(true);
    const socket = await open('late');
    const promptId = await submit('late');
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_success');
    expect((await http(fake.url, 'GET', `/history/${promptId}`)).json).toEqual({});
    await socket.finished(promptId);
    expect(Object.keys((await http(fake.url, 'GET', `/history/${promptId}`)).json as object)).toEqual([promptId]);
  });

  it('reconnectBug: closing the old socket unregisters the new one with the same clientId (ComfyUI#16010)', async () => {
    const fake = await comfy.start();
    const old = await open('same');
    const fresh = await open('same');
    const oldGone = fake.next('ws-disconnected');
    await old.close();
    await oldGone;
    expect(fake.clientIds).toContain('same');

    fake.faults.reconnectBug(true);
    const older = await open('bugged');
    const newer = await open('bugged');
    const olderGone = fake.next('ws-disconnected');
    await older.close();
    await olderGone;
    expect(fake.clientIds).not.toContain('bugged');
    const done = fake.next('prompt-done');
    await submit('bugged');
    await done;
    expect(newer.labels().filter((l) => l !== 'status')).toEqual([]);
    expect(new Set(fresh.labels())).toEqual(new Set(['status']));
    const promptId = await submit('same', 11);
    await fresh.finished(promptId);
  });

  it('sends unknown binary frames, type-3 text frames and unknown JSON messages on demand', async () => {
    const fake = await comfy.start();
    const socket = await open('extras');
    fake.faults.sendUnknownBinary();
    fake.faults.sendTextFrame('7', 'hello from an API node');
    fake.faults.sendUnknownJson();
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'crystools.monitor');
    expect(socket.labels()).toEqual(['status', 'bin:99', 'bin:3', 'crystools.monitor']);
    const text = socket.frames[2]!;
    if (text.kind !== 'binary') throw new Error('expected a binary frame');
    const idLength = text.bytes.readUInt32BE(4);
    expect(text.bytes.subarray(8, 8 + idLength).toString()).toBe('7');
    expect(text.bytes.subarray(8 + idLength).toString()).toBe('hello from an API node');
  });

  it('restart forgets queue, history and sockets, keeps the port and the output files', async () => {
    const fake = await comfy.start();
    const socket = await open('restart');
    const promptId = await submit('restart');
    await socket.finished(promptId);
    const file = (fake.history.get(promptId)!.outputs['2'] as { images: { filename: string }[] }).images[0]!.filename;
    const url = fake.url;
    await fake.restart();
    expect(await socket.closed).toBe(1006);
    expect(fake.url).toBe(url);
    expect((await http(url, 'GET', `/history/${promptId}`)).json).toEqual({});
    expect((await http(url, 'GET', `/view?filename=${file}`)).status).toBe(200);
    const again = await open('restart');
    const next = await submit('restart', 9);
    await again.finished(next);
  });

  it('down refuses connections until up, which comes back on the same port having forgotten the queue', async () => {
    const fake = await comfy.start();
    const socket = await open('down');
    fake.hold();
    const promptId = await submit('down');
    const url = fake.url;
    await fake.down();
    expect(await socket.closed).toBe(1006);
    await expect(http(url, 'GET', '/system_stats')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    fake.release();
    await fake.up();
    expect(fake.url).toBe(url);
    expect((await http(url, 'GET', `/history/${promptId}`)).json).toEqual({});
    expect((await http(url, 'GET', '/queue')).json).toEqual({ queue_running: [], queue_pending: [] });
  });

  it('unreachable closes and resets every connection while on; the prompt runs on and is in history after', async () => {
    const fake = await comfy.start();
    const socket = await open('cut');
    fake.hold();
    const promptId = await submit('cut');
    fake.faults.unreachable(true);
    expect(await socket.closed).toBe(1006);
    await expect(http(fake.url, 'GET', '/system_stats')).rejects.toThrow();
    const done = fake.next('prompt-done');
    fake.release();
    expect(await done).toEqual([promptId, 'success']);
    fake.faults.unreachable(false);
    expect(Object.keys((await http(fake.url, 'GET', `/history/${promptId}`)).json as object)).toEqual([promptId]);
  });

  it('failNextRun makes the next node of a class fail at run time, once', async () => {
    const fake = await comfy.start();
    const socket = await open('fail');
    fake.faults.failNextRun('SaveImage', 'disk full');
    const failed = await submit('fail');
    await socket.finished(failed);
    expect(socket.texts('execution_error')[0]!.data).toMatchObject({
      prompt_id: failed, node_id: '2', node_type: 'SaveImage', exception_message: 'disk full', exception_type: 'RuntimeError', executed: ['1'],
    });
    expect(fake.history.get(failed)?.status).toMatchObject({ status_str: 'error', completed: false });
    const next = await submit('fail', 12);
    await socket.finished(next);
    expect(fake.history.get(next)?.status.status_str).toBe('success');
  });

  it('blockNextRun: ExecutionBlocked error, downstream skipped, prompt still ends in success', async () => {
    const fake = await comfy.start();
    const socket = await open('block');
    fake.faults.blockNextRun('EmptyImage', 'no input image');
    const promptId = await submit('block');
    await socket.finished(promptId);
    const labels = socket.labels();
    expect(labels.indexOf('execution_error')).toBeLessThan(labels.indexOf('execution_success'));
    expect(socket.texts('execution_error')[0]!.data).toMatchObject({ exception_type: 'ExecutionBlocked', exception_message: 'no input image', traceback: [] });
    expect(socket.texts('execution_error')[0]!.data).not.toHaveProperty('timestamp');
    expect(socket.texts('executing').map((m) => m.data['node'])).toEqual(['1', null]);
    expect(fake.history.get(promptId)?.status.status_str).toBe('success');
  });

  it('rejects bad options with a clear message', async () => {
    await expect(startFakeComfy({ profile: 'cloud' })).rejects.toThrow(/needs an apiKey/);
    await expect(startFakeComfy({ samplerSteps: 0 })).rejects.toThrow(/samplerSteps/);
    await expect(startFakeComfy({ stepDelayMs: -1 })).rejects.toThrow(/stepDelayMs/);
  });
});
