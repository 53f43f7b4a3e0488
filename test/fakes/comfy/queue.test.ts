import { describe, expect, it } from 'vitest';
import { http } from './client.js';
import { startFakeComfy } from './index.js';
import { useFakeComfy } from './session.js';
import { loadTranscript } from './transcripts.js';

const comfy = useFakeComfy();

function prompt(color: number): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `q${color}` } },
  };
}

async function submit(body: Record<string, unknown>): Promise<{ prompt_id: string; number: number }> {
  const response = await http(comfy.fake.url, 'POST', '/prompt', body);
  expect(response.status, response.text).toBe(200);
  return response.json as { prompt_id: string; number: number };
}

type QueueView = { queue_running: [number, string][]; queue_pending: [number, string][] };

async function queue(): Promise<QueueView> {
  return (await http(comfy.fake.url, 'GET', '/queue')).json as QueueView;
}

describe('09-queue-delete replay', () => {
  it('front runs next, pending is the unsorted heap, delete/clear touch only pending, every call 200 empty', async () => {
    const fake = await comfy.start();
    const socket = await comfy.open({ clientId: 'q' });
    fake.hold();
    const l1 = await submit({ prompt: prompt(1), client_id: 'q' });
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_cached');
    const l2 = await submit({ prompt: prompt(2), client_id: 'q' });
    const l3 = await submit({ prompt: prompt(3), client_id: 'q' });
    const l4 = await submit({ prompt: prompt(4), client_id: 'q', front: true });
    expect(l4.number).toBe(-(l3.number + 1));

    const recordedQueue = loadTranscript('09-queue-delete').http.find((h) => h.method === 'GET' && h.path === '/queue')!.response_json as QueueView;
    const live = await queue();
    expect(live.queue_running.map((i) => i[1])).toEqual([l1.prompt_id]);
    const order = (view: QueueView, ids: string[]): number[] => view.queue_pending.map((i) => ids.indexOf(i[1]));
    const recordedIds = loadTranscript('09-queue-delete').http.filter((h) => h.path === '/prompt').map((h) => (h.response_json as { prompt_id: string }).prompt_id);
    expect(order(live, [l1, l2, l3, l4].map((x) => x.prompt_id))).toEqual(order(recordedQueue, recordedIds.slice(0, 4)));
    expect((await http(fake.url, 'GET', '/prompt')).json).toEqual({ exec_info: { queue_remaining: 4 } });

    const deleted = await http(fake.url, 'POST', '/queue', { delete: [l2.prompt_id] });
    expect(deleted.status).toBe(200);
    expect(deleted.text).toBe('');
    expect((await queue()).queue_pending.map((i) => i[1])).toEqual([l4.prompt_id, l3.prompt_id]);
    expect((await http(fake.url, 'POST', '/queue', { delete: ['no-such-id'] })).status).toBe(200);

    const finishedOrder: string[] = [];
    fake.events.on('prompt-done', (id) => finishedOrder.push(id));
    const lastDone = socket.finished(l3.prompt_id);
    await http(fake.url, 'POST', '/interrupt');
    fake.release();
    await lastDone;
    expect(finishedOrder).toEqual([l1.prompt_id, l4.prompt_id, l3.prompt_id]);
    expect(fake.history.get(l1.prompt_id)?.status.status_str).toBe('error');

    fake.hold();
    const l5 = await submit({ prompt: prompt(5), client_id: 'q' });
    await submit({ prompt: prompt(6), client_id: 'q' });
    await socket.waitFor((f) => f.kind === 'text' && f.json.type === 'execution_start' && f.json.data['prompt_id'] === l5.prompt_id);
    expect((await http(fake.url, 'POST', '/queue', { clear: true })).status).toBe(200);
    const cleared = await queue();
    expect(cleared.queue_running.map((i) => [i[0], i[1]])).toEqual([[l5.number, l5.prompt_id]]);
    expect(cleared.queue_pending).toEqual([]);
    const l5Done = socket.finished(l5.prompt_id);
    await http(fake.url, 'POST', '/interrupt', {});
    fake.release();
    await l5Done;
    expect(await queue()).toEqual({ queue_running: [], queue_pending: [] });
    expect((await http(fake.url, 'GET', `/history/${l2.prompt_id}`)).json).toEqual({});
    expect((await http(fake.url, 'POST', '/queue', 'not json')).status).toBe(500);
  });
});

/** Runs three prompts to the end, one after another, from a socket of `clientId`; their ids, oldest first. */
async function runThree(clientId: string): Promise<string[]> {
  const socket = await comfy.open({ clientId });
  const ids: string[] = [];
  for (const color of [1, 2, 3]) {
    const { prompt_id } = await submit({ prompt: prompt(color), client_id: clientId });
    await socket.finished(prompt_id);
    ids.push(prompt_id);
  }
  return ids;
}

describe('12-history-ops replay', () => {
  it('max_items gives the newest, offset counts from the oldest, delete and clear, bad numbers → 500', async () => {
    const fake = await comfy.start();
    const ids = await runThree('h');
    const keys = async (path: string): Promise<string[]> => Object.keys((await http(fake.url, 'GET', path)).json as object);
    expect(await keys('/history?max_items=2')).toEqual([ids[1], ids[2]]);
    expect(await keys('/history?max_items=1&offset=0')).toEqual([ids[0]]);
    expect(await keys('/history')).toEqual(ids);
    expect((await http(fake.url, 'GET', '/history?max_items=abc')).status).toBe(500);
    const deleted = await http(fake.url, 'POST', '/history', { delete: [ids[0]] });
    expect(deleted.status).toBe(200);
    expect(await keys(`/history/${ids[0]}`)).toEqual([]);
    expect(await keys(`/history/${ids[1]}`)).toEqual([ids[1]]);
    expect((await http(fake.url, 'POST', '/free', { unload_models: true, free_memory: true })).status).toBe(200);
    await http(fake.url, 'POST', '/history', { clear: true });
    expect(await keys('/history')).toEqual([]);
  });

  it('evicts the oldest entries beyond maxHistory', async () => {
    const fake = await comfy.start({ maxHistory: 2 });
    const ids = await runThree('e');
    expect(Object.keys((await http(fake.url, 'GET', '/history')).json as object)).toEqual(ids.slice(1));
    await expect(startFakeComfy({ maxHistory: 0 })).rejects.toThrow(/maxHistory/);
  });
});
