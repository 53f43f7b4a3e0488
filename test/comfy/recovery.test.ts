// What happens when the socket cannot be trusted: races, drops, restarts, stalls, blocked nodes.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/comfy/http.js';
import { collect, recordedPrompt, useHarness } from './harness.js';

const h = useHarness();
const { answer, history } = recordedPrompt('03');
const id = answer.prompt_id;
const entry = history as HistoryEntry;

function serve(options: { history: () => HistoryEntry | undefined; queue?: () => { running: string[]; pending: string[] } }) {
  h.stub.route('POST', '/api/prompt', () => ({ json: answer }));
  h.stub.route('GET', `/api/history/${id}`, () => {
    const e = options.history();
    return { json: e ? { [id]: e } : {} };
  });
  h.stub.route('GET', '/api/queue', () => {
    const q = options.queue?.() ?? { running: [], pending: [] };
    const item = (pid: string, n: number) => [n, pid, {}, {}, []];
    return { json: { queue_running: q.running.map((p) => item(p, 1)), queue_pending: q.pending.map((p, i) => item(p, 2 + i)) } };
  });
}

describe('history written after execution_success', () => {
  it('waits for executing{node:null} and then reads the entry', async () => {
    let written = false;
    serve({ history: () => (written ? entry : undefined) });
    const { c, socket } = await h.connected({ successGraceMs: 60_000 });
    const run = await c.submit(h.workflow);
    socket.sendJson({ type: 'execution_start', data: { prompt_id: id } });
    socket.sendJson({ type: 'execution_success', data: { prompt_id: id } });
    written = true;
    socket.sendJson({ type: 'executing', data: { node: null, prompt_id: id } });
    // executionMs: the entry's own execution_start → execution_success timestamps (3 ms in transcript 03).
    await expect(run.finished).resolves.toEqual({ type: 'done', promptId: id, outputs: entry.outputs, executionMs: 3 });
  });

  it('retries history briefly when no executing{node:null} follows', async () => {
    let reads = 0;
    serve({ history: () => (++reads >= 3 ? entry : undefined) });
    const { c, socket } = await h.connected({ successGraceMs: 1 });
    const run = await c.submit(h.workflow);
    socket.sendJson({ type: 'execution_success', data: { prompt_id: id } });
    await expect(run.finished).resolves.toMatchObject({ type: 'done', outputs: entry.outputs });
    expect(reads).toBe(3);
  });
});

describe('socket drops and server restarts', () => {
  it('reconnects, sends the handshake again, and finds a completion that happened while disconnected', async () => {
    let finished = false;
    serve({ history: () => (finished ? entry : undefined), queue: () => ({ running: finished ? [] : [id], pending: [] }) });
    const { c, socket } = await h.connected();
    const run = await c.submit(h.workflow);
    const events = collect(run);
    socket.sendJson({ type: 'execution_start', data: { prompt_id: id } });
    const next = h.stub.nextSocket();
    const gone = once(c, 'disconnected');
    socket.ws.terminate();
    await gone;
    finished = true;
    const second = await next;
    expect(await second.firstMessage).toEqual({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    await expect(run.finished).resolves.toMatchObject({ type: 'done', outputs: entry.outputs });
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'output', 'done']);
  });

  it('fails a prompt with reason "lost" when a restarted server knows it neither in queue nor history', async () => {
    serve({ history: () => undefined });
    const { c, socket } = await h.connected();
    const run = await c.submit(h.workflow);
    socket.ws.terminate();
    const end = await run.finished;
    expect(end).toMatchObject({ type: 'failed', reason: { kind: 'lost' } });
    if (end.type === 'failed') expect(end.reason.kind === 'lost' && end.reason.message).toContain('neither the queue nor the history of gpu1');
  });

  it('keeps a prompt that is still pending after a reconnect, reading /queue once for all prompts', async () => {
    const ids = ['a', 'b', 'c'];
    let n = 0;
    h.stub.route('POST', '/api/prompt', () => ({ json: { prompt_id: ids[n++], number: n, node_errors: {} } }));
    for (const pid of ids) h.stub.route('GET', `/api/history/${pid}`, () => ({ json: {} }));
    h.stub.route('GET', '/api/queue', () => ({ json: { queue_running: [], queue_pending: ids.map((p, i) => [i, p, {}, {}, []]) } }));
    const { c, socket } = await h.connected();
    const runs = await Promise.all(ids.map(() => c.submit(h.workflow)));
    const next = h.stub.nextSocket();
    socket.ws.terminate();
    const second = await next;
    await second.firstMessage;
    // Let the reconciliation round finish: one history read per prompt and a shared queue read.
    while (h.stub.requests.filter((r) => r.path.startsWith('/api/history/')).length < 3 || h.stub.requestsTo('GET', '/api/queue').length < 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(h.stub.requestsTo('GET', '/api/queue')).toHaveLength(1);
    expect(runs.every((r) => !r.ended)).toBe(true);
    second.sendJson({ type: 'execution_interrupted', data: { prompt_id: 'b', node_id: null } });
    await expect(runs[1]?.finished).resolves.toEqual({ type: 'interrupted', promptId: 'b' });
  });

  it('attributes the executing replay after a reconnect (no prompt_id) to the prompt running for this client', async () => {
    let finished = false;
    serve({ history: () => (finished ? entry : undefined), queue: () => ({ running: [id], pending: [] }) });
    const { c, socket: first } = await h.connected();
    const run = await c.submit(h.workflow);
    const events = collect(run);
    first.sendJson({ type: 'execution_start', data: { prompt_id: id } });
    const next = h.stub.nextSocket();
    first.ws.terminate();
    const socket = await next;
    socket.sendJson({ type: 'executing', data: { node: '2' } });
    socket.sendJson({ type: 'progress', data: { node: '2', value: 1, max: 4 } });
    finished = true;
    socket.sendJson({ type: 'executing', data: { node: null, prompt_id: id } });
    await run.finished;
    expect(events).toContainEqual({ type: 'node', promptId: id, node: '2' });
    expect(events).toContainEqual({ type: 'progress', promptId: id, node: '2', value: 1, max: 4 });
  });
});

describe('stall watchdog and follow', () => {
  it('polls history for a prompt that got no frame for stallMs', async () => {
    let finished = false;
    serve({ history: () => (finished ? entry : undefined), queue: () => ({ running: finished ? [] : [id], pending: [] }) });
    const { c } = await h.connected({ stallMs: 30 });
    const run = await c.submit(h.workflow);
    finished = true; // finished, but the socket never said so (e.g. ComfyUI#16010 unregistered us)
    await expect(run.finished).resolves.toMatchObject({ type: 'done', outputs: entry.outputs });
    expect(c.connected).toBe(true);
  });

  it('adopts an earlier prompt: done from history, lost when unknown', async () => {
    serve({ history: () => entry });
    h.stub.route('GET', '/api/history/unknown', () => ({ json: {} }));
    const c = h.client();
    const followed = c.follow(id);
    expect(followed.number).toBeNaN();
    await expect(followed.finished).resolves.toMatchObject({ type: 'done', outputs: entry.outputs });
    expect(followed.number).toBe(entry.prompt[0]);
    expect(c.follow(id)).not.toBe(followed); // a finished run is no longer tracked: following again starts afresh
    await expect(c.follow('unknown').finished).resolves.toMatchObject({ type: 'failed', reason: { kind: 'lost' } });
  });

  it("times an adopted prompt that ended while nobody listened by the server's timestamps, not by when it was found", async () => {
    const stamped = (name: string, timestamp?: number): [string, Record<string, unknown>] => [name, { prompt_id: id, ...(timestamp === undefined ? {} : { timestamp }) }];
    const withMessages = (messages: [string, Record<string, unknown>][], status_str = 'success'): HistoryEntry => ({ ...entry, status: { status_str, completed: status_str === 'success', messages } });
    // Found an hour after it ended (the bot was down): it ran 2.5 s.
    let current = withMessages([stamped('execution_start', 1_000), stamped('execution_cached', 1_001), stamped('execution_success', 3_500)]);
    serve({ history: () => current });
    const c = h.client();
    await expect(c.follow(id).finished).resolves.toMatchObject({ type: 'done', executionMs: 2_500 });
    current = withMessages([stamped('execution_start', 1_000), stamped('execution_interrupted', 1_700)], 'error');
    await expect(c.follow(id).finished).resolves.toMatchObject({ type: 'interrupted', executionMs: 700 });
    // No timestamps (an older server): no measure; the caller falls back to its own clock.
    current = withMessages([stamped('execution_start'), stamped('execution_success')]);
    const unstamped = await c.follow(id).finished;
    expect(unstamped.type).toBe('done');
    expect(unstamped).not.toHaveProperty('executionMs');
  });
});

describe('ExecutionBlocked', () => {
  it('does not end the prompt; a later success does', async () => {
    serve({ history: () => entry });
    const { c, socket } = await h.connected();
    const run = await c.submit(h.workflow);
    socket.sendJson({ type: 'execution_error', data: { prompt_id: id, node_id: '2', node_type: 'X', exception_type: 'ExecutionBlocked', exception_message: 'blocked', traceback: [] } });
    expect(run.ended).toBe(false);
    socket.sendJson({ type: 'execution_success', data: { prompt_id: id } });
    socket.sendJson({ type: 'executing', data: { node: null, prompt_id: id } });
    await expect(run.finished).resolves.toMatchObject({ type: 'done' });
  });

  it('ends as failed with the blocked reason when no success follows', async () => {
    serve({ history: () => undefined });
    const { c, socket } = await h.connected();
    const run = await c.submit(h.workflow);
    socket.sendJson({ type: 'execution_error', data: { prompt_id: id, node_id: '2', node_type: 'X', exception_type: 'ExecutionBlocked', exception_message: 'blocked', traceback: [] } });
    socket.sendJson({ type: 'executing', data: { node: null, prompt_id: id } });
    await expect(run.finished).resolves.toMatchObject({ type: 'failed', reason: { kind: 'execution', failure: { exceptionType: 'ExecutionBlocked', nodeId: '2' } } });
  });
});
