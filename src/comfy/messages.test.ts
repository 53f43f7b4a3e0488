import { describe, expect, it } from 'vitest';
import { loadTranscript, textFrames, transcriptNames } from '../../test/fakes/comfy/transcripts.js';
import { MessageShapeError, parseServerMessage } from './messages.js';

describe('parseServerMessage', () => {
  it('parses every text frame of every transcript into a known type', () => {
    const seen = new Set<string>();
    for (const name of transcriptNames()) {
      for (const text of textFrames(loadTranscript(name))) {
        const message = parseServerMessage(text);
        expect(message.type, text.slice(0, 120)).not.toBe('unknown');
        seen.add(message.type);
      }
    }
    expect([...seen].sort()).toEqual(
      [
        'status',
        'execution_start',
        'execution_cached',
        'executing',
        'progress',
        'progress_state',
        'executed',
        'execution_success',
        'execution_error',
        'execution_interrupted',
        'feature_flags',
      ].sort(),
    );
  });

  it("reads progress_state's prompt id, from the start of the frame as ComfyUI writes it or by parsing any other layout", () => {
    const frames = transcriptNames().flatMap((name) => textFrames(loadTranscript(name))).filter((t) => t.includes('"progress_state"'));
    expect(frames.length).toBeGreaterThan(0);
    for (const text of frames) {
      const data = (JSON.parse(text) as { data: { prompt_id: string } }).data;
      expect(parseServerMessage(text)).toEqual({ type: 'progress_state', promptId: data.prompt_id });
    }
    const nodes = { '3': { value: 2, max: 20, state: 'running', prompt_id: 'other' } };
    expect(parseServerMessage(JSON.stringify({ type: 'progress_state', data: { prompt_id: 'p1', nodes } }))).toEqual({ type: 'progress_state', promptId: 'p1' });
    expect(parseServerMessage(JSON.stringify({ type: 'progress_state', data: { nodes, prompt_id: 'p2' } }))).toEqual({ type: 'progress_state', promptId: 'p2' });
    expect(() => parseServerMessage(JSON.stringify({ type: 'progress_state', data: { nodes } }))).toThrow(MessageShapeError);
  });

  it('reads the initial status with its sid', () => {
    expect(parseServerMessage('{"type":"status","data":{"status":{"exec_info":{"queue_remaining":2}},"sid":"abc"}}')).toEqual({
      type: 'status',
      queueRemaining: 2,
      sid: 'abc',
    });
  });

  it('reads executing{node:null} and the replay without prompt id', () => {
    expect(parseServerMessage('{"type":"executing","data":{"node":null,"prompt_id":"p"}}')).toEqual({ type: 'executing', node: null, promptId: 'p' });
    expect(parseServerMessage('{"type":"executing","data":{"node":"7"}}')).toEqual({ type: 'executing', node: '7' });
  });

  it('reads the full execution_error of transcript 10', () => {
    const text = textFrames(loadTranscript('10')).find((t) => t.includes('"execution_error"'));
    const message = parseServerMessage(text ?? '');
    expect(message.type).toBe('execution_error');
    if (message.type !== 'execution_error') return;
    expect(message.blocked).toBe(false);
    expect(message.failure.nodeId).toBe('3');
    expect(message.failure.nodeType).toBe('SaveImage');
    expect(message.failure.exceptionMessage).toContain('Saving image outside the output folder');
    expect(message.failure.traceback.length).toBeGreaterThan(0);
  });

  it('marks the ExecutionBlocked variant, which does not end a prompt', () => {
    const message = parseServerMessage(
      JSON.stringify({ type: 'execution_error', data: { prompt_id: 'p', node_id: '5', node_type: 'X', exception_type: 'ExecutionBlocked', exception_message: 'blocked', traceback: [] } }),
    );
    expect(message).toMatchObject({ type: 'execution_error', blocked: true });
  });

  it('tolerates extra keys and returns unknown for custom message types', () => {
    expect(parseServerMessage('{"type":"execution_start","data":{"prompt_id":"p","timestamp":1,"new_key":true}}')).toEqual({ type: 'execution_start', promptId: 'p', timestamp: 1 });
    expect(parseServerMessage('{"type":"execution_success","data":{"prompt_id":"p"}}')).toEqual({ type: 'execution_success', promptId: 'p' });
    expect(parseServerMessage('{"type":"crystools.monitor","data":{"cpu":3}}')).toEqual({ type: 'unknown', name: 'crystools.monitor' });
  });

  it.each([
    ['not JSON', 'hello', 'not JSON'],
    ['no type', '{"data":{}}', 'no "type"'],
    ['progress without value', '{"type":"progress","data":{"max":3,"prompt_id":"p"}}', 'progress without value'],
    ['executed without prompt id', '{"type":"executed","data":{"node":"1","output":{}}}', 'executed without prompt_id'],
  ])('rejects a malformed frame (%s) with a reason', (_name, text, reason) => {
    expect(() => parseServerMessage(text)).toThrow(MessageShapeError);
    expect(() => parseServerMessage(text)).toThrow(reason);
  });
});
