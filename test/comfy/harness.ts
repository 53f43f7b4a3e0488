// Shared set-up of the client integration tests: a stub server per test, a connected client, replay helpers.
import { afterEach, beforeEach } from 'vitest';
import { ComfyClient, type ComfyClientOptions } from '../../src/comfy/client.js';
import type { HistoryEntry } from '../../src/comfy/http.js';
import type { ApiWorkflow, PromptEvent } from '../../src/comfy/types.js';
import { StubServer, type StubSocket } from './stub-server.js';
import { httpExchanges, loadTranscript, type Transcript } from '../fakes/comfy/transcripts.js';

export interface Harness {
  readonly stub: StubServer;
  readonly workflow: ApiWorkflow;
  connected(options?: Partial<ComfyClientOptions>): Promise<{ c: ComfyClient; socket: StubSocket }>;
  /** A client that is not connected (HTTP only). */
  client(options?: Partial<ComfyClientOptions>): ComfyClient;
}

/** Registers beforeEach/afterEach hooks; the returned object is valid inside tests. */
export function useHarness(stubOptions: { autoPong?: boolean } = {}): Harness {
  let stub: StubServer | undefined;
  const clients: ComfyClient[] = [];
  beforeEach(async () => {
    stub = await StubServer.start(stubOptions);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await stub?.close();
  });
  const current = () => {
    if (!stub) throw new Error('harness used outside a test');
    return stub;
  };
  const make = (options: Partial<ComfyClientOptions> = {}) => {
    const c = new ComfyClient({
      name: 'gpu1',
      url: current().url,
      clientId: 'client-1',
      reconnect: { minMs: 5, maxMs: 20 },
      historyRetryMs: [5, 10, 20],
      successGraceMs: 50,
      ...options,
    });
    clients.push(c);
    return c;
  };
  return {
    get stub() {
      return current();
    },
    workflow: {
      '1': { class_type: 'EmptyImage', inputs: { width: 64 } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0] } },
    },
    client: make,
    async connected(options = {}) {
      const next = current().nextSocket();
      const c = make(options);
      await c.connect();
      return { c, socket: await next };
    },
  };
}

export type Frame = { text?: string; binary?: Buffer };

/** The frames one socket received about one recorded prompt, text and binary in recorded order. */
export function ownerFrames(transcript: Transcript, promptId: string, socket = 'owner'): Frame[] {
  const frames: Frame[] = [];
  let inside = false;
  for (const frame of transcript.frames.get(socket) ?? []) {
    if (frame.kind === 'binary') {
      if (inside && frame.base64 !== undefined) frames.push({ binary: Buffer.from(frame.base64, 'base64') });
      continue;
    }
    const text = JSON.stringify(frame.json);
    if (text.includes(promptId)) inside = true;
    if (inside) frames.push({ text });
    // `executing{node:null}` is the last frame carrying the prompt id.
    if (inside && /"type":"executing"/.test(text) && /"node":null/.test(text) && text.includes(promptId)) break;
  }
  return frames;
}

export function play(socket: StubSocket, frames: Frame[]): void {
  for (const f of frames) {
    if (f.text) socket.sendText(f.text);
    else if (f.binary) socket.sendBinary(f.binary);
  }
}

export function collect(run: { subscribe(fn: (e: PromptEvent) => void): () => void }): PromptEvent[] {
  const events: PromptEvent[] = [];
  run.subscribe((e) => events.push(e));
  return events;
}

/** The n-th accepted prompt of a transcript: its /prompt answer and its history entry. */
export function recordedPrompt(transcript: string, index = 0) {
  const recorded = loadTranscript(transcript);
  const post = httpExchanges(recorded, 'POST', '/prompt').filter((l) => l.status === 200)[index];
  if (!post) throw new Error(`no accepted prompt #${index} in ${transcript}`);
  const answer = post.response_json as { prompt_id: string; number: number; node_errors: object };
  const history = httpExchanges(recorded, 'GET', `/history/${answer.prompt_id}`)[0]?.response_json as Record<string, HistoryEntry> | undefined;
  return { transcript: recorded, answer, history: history?.[answer.prompt_id] };
}
