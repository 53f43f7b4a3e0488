// JSON WebSocket messages (`{type, data}`), narrowed to the fields this client relies on. Extra keys are
// tolerated (kept in `data`), unknown types come back as `unknown` so callers can ignore them.
import type { ExecutionFailure, NodeOutput } from './types.js';

export type ServerMessage =
  | { type: 'status'; queueRemaining: number; sid?: string }
  | { type: 'execution_start'; promptId: string; timestamp?: number }
  | { type: 'execution_cached'; promptId: string; nodes: string[] }
  | { type: 'executing'; promptId?: string; node: string | null; displayNode?: string }
  | { type: 'progress'; promptId?: string; node: string | null; value: number; max: number }
  | { type: 'progress_state'; promptId: string }
  | { type: 'executed'; promptId: string; node: string; output: NodeOutput | null }
  | { type: 'execution_success'; promptId: string; timestamp?: number }
  | { type: 'execution_error'; promptId: string; failure: ExecutionFailure; blocked: boolean }
  | { type: 'execution_interrupted'; promptId: string; node: string | null }
  | { type: 'feature_flags'; flags: Record<string, unknown> }
  | { type: 'unknown'; name: string };

type Data = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const isObject = (v: unknown): v is Data => typeof v === 'object' && v !== null && !Array.isArray(v);

export class MessageShapeError extends Error {}

/**
 * `progress_state` re-sends the state of every node started so far on each change (every sampler step): kilobytes
 * per step on a large workflow, of which the client needs only the prompt id (it proves the run alive). The id is
 * read from the start of the frame as ComfyUI writes it (`json.dumps`, prompt_id first); any other layout is parsed.
 * The rest of such a frame is not checked: a malformed one could only make a run look alive a moment longer.
 */
const PROGRESS_STATE = /^\{"type": ?"progress_state", ?"data": ?\{"prompt_id": ?"([^"\\]+)"/;

/**
 * Parses one text frame. Throws MessageShapeError when the frame is not JSON or a known type lacks a field
 * the client needs — the socket logs and drops such frames.
 */
export function parseServerMessage(text: string): ServerMessage {
  const progressState = PROGRESS_STATE.exec(text);
  if (progressState) return { type: 'progress_state', promptId: progressState[1]! };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MessageShapeError(`not JSON: ${text.slice(0, 80)}`);
  }
  if (!isObject(parsed) || typeof parsed.type !== 'string') throw new MessageShapeError('no "type" field');
  const data = isObject(parsed.data) ? parsed.data : {};
  return interpret(parsed.type, data);
}

function need<T>(value: T | undefined, type: string, field: string): T {
  if (value === undefined) throw new MessageShapeError(`${type} without ${field}`);
  return value;
}

function interpret(type: string, d: Data): ServerMessage {
  const promptId = () => need(str(d.prompt_id), type, 'prompt_id');
  switch (type) {
    case 'status': {
      const status = isObject(d.status) ? d.status : {};
      const execInfo = isObject(status.exec_info) ? status.exec_info : {};
      const queueRemaining = need(num(execInfo.queue_remaining), type, 'queue_remaining');
      const sid = str(d.sid);
      return sid === undefined ? { type, queueRemaining } : { type, queueRemaining, sid };
    }
    case 'execution_start':
    case 'execution_success': {
      // The server's clock, the same stamp as in the history entry's status messages (since 2024).
      const timestamp = num(d.timestamp);
      return timestamp === undefined ? { type, promptId: promptId() } : { type, promptId: promptId(), timestamp };
    }
    case 'execution_cached':
      return { type, promptId: promptId(), nodes: Array.isArray(d.nodes) ? d.nodes.map(String) : [] };
    case 'executing': {
      const node = d.node === null || d.node === undefined ? null : String(d.node);
      const msg: ServerMessage = { type, node };
      const pid = str(d.prompt_id);
      const displayNode = str(d.display_node);
      if (pid !== undefined) msg.promptId = pid;
      if (displayNode !== undefined) msg.displayNode = displayNode;
      return msg;
    }
    case 'progress': {
      const msg: ServerMessage = {
        type,
        node: d.node === null || d.node === undefined ? null : String(d.node),
        value: need(num(d.value), type, 'value'),
        max: need(num(d.max), type, 'max'),
      };
      const pid = str(d.prompt_id);
      if (pid !== undefined) msg.promptId = pid;
      return msg;
    }
    case 'progress_state':
      return { type, promptId: promptId() };
    case 'executed':
      return {
        type,
        promptId: promptId(),
        node: need(d.node === undefined || d.node === null ? undefined : String(d.node), type, 'node'),
        output: isObject(d.output) ? (d.output as NodeOutput) : null,
      };
    case 'execution_error':
      return { type, promptId: promptId(), failure: executionFailure(d), blocked: d.exception_type === 'ExecutionBlocked' };
    case 'execution_interrupted':
      return { type, promptId: promptId(), node: d.node_id === undefined || d.node_id === null ? null : String(d.node_id) };
    case 'feature_flags':
      return { type, flags: d };
    default:
      return { type: 'unknown', name: type };
  }
}

/** The failure fields of an `execution_error` payload (socket message or history status message). */
export function executionFailure(d: Data): ExecutionFailure {
  return {
    nodeId: d.node_id === undefined || d.node_id === null ? null : String(d.node_id),
    nodeType: str(d.node_type) ?? null,
    exceptionType: str(d.exception_type) ?? 'Exception',
    exceptionMessage: str(d.exception_message) ?? '',
    traceback: Array.isArray(d.traceback) ? d.traceback.map(String) : [],
  };
}
