// ComfyClient against a scripted local server that replays the recorded ComfyUI 0.3.64 traffic.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { collect, ownerFrames, play, recordedPrompt, useHarness } from './harness.js';
import { binaryFrames } from '../fakes/comfy/transcripts.js';

const h = useHarness();
const workflow = h.workflow;

/**
 * Serves transcript `name`'s accepted prompt and its history, submits `workflow` and collects the run's events;
 * the owner's recorded frames come back unplayed.
 */
async function replay(name: string, index?: number) {
  const { transcript, answer, history } = recordedPrompt(name, index);
  h.stub.route('POST', '/api/prompt', () => ({ json: answer }));
  h.stub.route('GET', `/api/history/${answer.prompt_id}`, () => ({ json: { [answer.prompt_id]: history } }));
  const { c, socket } = await h.connected();
  const run = await c.submit(workflow);
  return { transcript, answer, socket, run, events: collect(run), frames: ownerFrames(transcript, answer.prompt_id) };
}

describe('a normal run (transcript 03)', () => {
  it('submits with client_id and a UUID prompt_id, streams the prompt, and ends with done and merged outputs', async () => {
    const { transcript, answer, history } = recordedPrompt('03');
    let written = false;
    h.stub.route('POST', '/api/prompt', () => ({ json: answer }));
    h.stub.route('GET', `/api/history/${answer.prompt_id}`, () => ({ json: written && history ? { [answer.prompt_id]: history } : {} }));
    const { c, socket } = await h.connected();
    expect(await socket.firstMessage).toEqual({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    const run = await c.submit(workflow);
    const body = h.stub.requestsTo('POST', '/api/prompt')[0]?.json() as Record<string, unknown>;
    expect(body.client_id).toBe('client-1');
    expect(body.prompt_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.prompt).toEqual(workflow);
    expect(run.promptId).toBe(answer.prompt_id); // read back: old servers ignore ours
    const events = collect(run);
    written = true;
    play(socket, ownerFrames(transcript, answer.prompt_id));
    const end = await run.finished;
    // executionMs: the execution_start → execution_success stamps, the same as in the history entry.
    expect(end).toEqual({ type: 'done', promptId: answer.prompt_id, outputs: history?.outputs, executionMs: 3 });
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'node', 'node', 'node', 'output', 'done']);
    expect(h.stub.requestsTo('GET', '/api/queue')).toHaveLength(0);
    // The socket told the whole run (every node executed, both stamps): the history entry would only repeat it.
    expect(h.stub.requestsTo('GET', `/api/history/${answer.prompt_id}`)).toHaveLength(0);
  });

  it('reads the history entry when the socket dropped during the run (what was sent meanwhile is lost)', async () => {
    const { transcript, answer, history } = recordedPrompt('03');
    let written = false;
    h.stub.route('POST', '/api/prompt', () => ({ json: answer }));
    h.stub.route('GET', `/api/history/${answer.prompt_id}`, () => ({ json: written && history ? { [answer.prompt_id]: history } : {} }));
    let queueRead!: () => void;
    const reconciled = new Promise<void>((resolve) => (queueRead = resolve));
    h.stub.route('GET', '/api/queue', () => {
      queueRead();
      return { json: { queue_running: [[answer.number, answer.prompt_id, {}, {}, []]], queue_pending: [] } };
    });
    const { c, socket } = await h.connected();
    const run = await c.submit(workflow);
    const frames = ownerFrames(transcript, answer.prompt_id);
    const executed = frames.findIndex((f) => f.text?.includes('"type":"executed"'));
    play(socket, frames.slice(0, executed));
    // the client has read those frames once it answers a ping sent after them
    const pong = once(socket.ws, 'pong');
    socket.ws.ping();
    await pong;
    const next = h.stub.nextSocket();
    socket.ws.terminate();
    const again = await next;
    await reconciled; // the reconnect's check: not in history yet, still running
    written = true;
    play(again, frames.slice(executed + 1)); // `executed` went out while the socket was down
    await expect(run.finished).resolves.toMatchObject({ type: 'done', outputs: history?.outputs });
  });

  it('reads the history entry when the socket did not stamp the run (older servers)', async () => {
    const { transcript, answer, history } = recordedPrompt('03');
    h.stub.route('POST', '/api/prompt', () => ({ json: answer }));
    h.stub.route('GET', `/api/history/${answer.prompt_id}`, () => ({ json: { [answer.prompt_id]: history } }));
    const { c, socket } = await h.connected();
    const run = await c.submit(workflow);
    const unstamped = ownerFrames(transcript, answer.prompt_id).map((frame) =>
      frame.text === undefined || !frame.text.includes('"execution_s') ? frame : { ...frame, text: frame.text.replace(/,\s*"timestamp":\s*\d+/, '') },
    );
    play(socket, unstamped);
    await expect(run.finished).resolves.toEqual({ type: 'done', promptId: answer.prompt_id, outputs: history?.outputs, executionMs: 3 });
    expect(h.stub.requestsTo('GET', `/api/history/${answer.prompt_id}`)).toHaveLength(1);
  });

  it('ignores messages about other prompts', async () => {
    const { transcript, answer, history } = recordedPrompt('03');
    h.stub.route('POST', '/api/prompt', () => ({ json: { ...answer, prompt_id: 'mine' } }));
    h.stub.route('GET', '/api/history/mine', () => ({ json: { mine: history } }));
    const { c, socket } = await h.connected();
    const run = await c.submit(workflow);
    const events = collect(run);
    play(socket, ownerFrames(transcript, answer.prompt_id)); // all about someone else's prompt
    socket.sendJson({ type: 'execution_success', data: { prompt_id: 'mine' } });
    socket.sendJson({ type: 'executing', data: { node: null, prompt_id: 'mine' } });
    await run.finished;
    expect(events.map((e) => e.type)).toEqual(['queued', 'output', 'done']);
  });
});

describe('replays of the other recorded scenarios', () => {
  it('finishes a fully cached re-run that sends no executing (transcript 07)', async () => {
    const { answer, socket, run, events, frames } = await replay('07', 1);
    play(socket, frames);
    const end = await run.finished;
    expect(end.type).toBe('done');
    // Cached nodes may have sent no `executed`: only the history entry has all the outputs.
    expect(h.stub.requestsTo('GET', `/api/history/${answer.prompt_id}`).length).toBeGreaterThan(0);
    expect(events.find((e) => e.type === 'cached')).toMatchObject({ nodes: expect.arrayContaining(['1']) });
    expect(events.some((e) => e.type === 'node')).toBe(false);
  });

  it('keeps frames (type-1 previews too) that arrive before the /prompt answer and replays them to the new run', async () => {
    const { transcript, answer, history } = recordedPrompt('20');
    h.stub.route('GET', `/api/history/${answer.prompt_id}`, () => ({ json: { [answer.prompt_id]: history } }));
    const { c, socket } = await h.connected({ successGraceMs: 60_000 });
    const frames = ownerFrames(transcript, answer.prompt_id);
    h.stub.route('POST', '/api/prompt', async () => {
      play(socket, frames);
      // Answer only once the client has read every frame: its pong comes after the frames it follows.
      const pong = once(socket.ws, 'pong');
      socket.ws.ping();
      await pong;
      return { json: answer };
    });
    const run = await c.submit(workflow);
    const events = collect(run);
    await expect(run.finished).resolves.toMatchObject({ type: 'done', outputs: history?.outputs });
    expect(events.slice(0, 2).map((e) => e.type)).toEqual(['queued', 'started']);
    expect(events.filter((e) => e.type === 'preview')).toHaveLength(frames.filter((f) => f.binary).length);
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(0);
  });

  it('reports a run-time error with node, type and message (transcript 10)', async () => {
    const { transcript, answer } = recordedPrompt('10');
    h.stub.route('POST', '/api/prompt', () => ({ json: answer }));
    const { c, socket } = await h.connected();
    const run = await c.submit(workflow);
    play(socket, ownerFrames(transcript, answer.prompt_id));
    const end = await run.finished;
    expect(end.type).toBe('failed');
    if (end.type !== 'failed' || end.reason.kind !== 'execution') throw new Error('expected an execution failure');
    expect(end.reason.failure).toMatchObject({ nodeId: '3', nodeType: 'SaveImage', exceptionType: 'Exception' });
    expect(end.reason.failure.exceptionMessage).toContain('Saving image outside the output folder');
  });

  it('attributes type-1 previews to the prompt executing on this socket (transcript 20)', async () => {
    const { answer, socket, run, events, frames } = await replay('20');
    play(socket, frames);
    await run.finished;
    const previews = events.filter((e) => e.type === 'preview');
    const progress = events.filter((e) => e.type === 'progress');
    expect(previews.length).toBe(frames.filter((f) => f.binary).length);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]).toMatchObject({ mime: 'image/jpeg', promptId: answer.prompt_id });
    expect(progress.length).toBeGreaterThan(0);
  });

  it('takes type-4 previews by their prompt id and drops previews of other prompts (transcript 21)', async () => {
    const { transcript, answer, socket, run, events, frames } = await replay('21');
    const recorded = binaryFrames(transcript)[0];
    const foreign = recorded?.bytes;
    const node = (recorded?.frame.metadata as { node_id: string } | undefined)?.node_id;
    if (!foreign) throw new Error('transcript 21 has no preview');
    const patched = Buffer.from(foreign.toString('latin1').replace(answer.prompt_id, '00000000-0000-4000-8000-000000000000'), 'latin1');
    socket.sendBinary(patched);
    play(socket, frames);
    await run.finished;
    const previews = events.filter((e) => e.type === 'preview');
    expect(previews.length).toBe(frames.filter((f) => f.binary).length);
    expect(previews.every((p) => p.type === 'preview' && p.node === node && p.mime === 'image/jpeg')).toBe(true);
  });
});
