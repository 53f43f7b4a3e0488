// The shapes ComfyUI speaks, and the events comfycord derives from them for one prompt.
// Everything here is plain data: the rest of the project (templates, scheduler, Discord glue) depends on
// these types, never on the wire details in messages.ts / frames.ts.

/** A link from another node's output: `["<srcNodeId>", <outputIndex>]`. */
export type NodeLink = [string, number];

/** Comfy API v2: an uploaded asset, written where a filename would go (the server swaps in its file name). */
export interface AssetReference {
  __type: 'core/ASSET';
  info: { id: string; hash?: string; file_path?: string };
}

export type InputValue = string | number | boolean | null | NodeLink | { __value__: unknown } | AssetReference | unknown[];

/** One node of an API-format workflow ("Export (API)"). Node ids are strings and may be non-numeric. */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, InputValue>;
  _meta?: { title?: string; [key: string]: unknown };
}

/** An API-format workflow: node id → node. */
export type ApiWorkflow = Record<string, ApiNode>;

/** A file reference as it appears in `executed.output` and history `outputs` (open object: newer servers add keys). */
export interface FileRef {
  filename: string;
  subfolder: string;
  type: 'output' | 'input' | 'temp' | string;
  [key: string]: unknown;
}

/** The UI dict of one output node: `images`, `audio`, `gifs`, `video`, `text`, `animated`, ... */
export type NodeOutput = Record<string, unknown>;

export type PreviewMime = 'image/jpeg' | 'image/png' | 'image/webp';

/** A run-time failure as ComfyUI reports it in `execution_error`. */
export interface ExecutionFailure {
  nodeId: string | null;
  nodeType: string | null;
  exceptionType: string;
  exceptionMessage: string;
  traceback: string[];
}

/**
 * The event stream of one prompt. `done`, `failed` and `interrupted` are terminal: exactly one of them ends
 * every stream (a stream that cannot be finished — e.g. the prompt was forgotten by a restarted server — ends
 * with `failed` whose `reason` says so).
 */
export type PromptEvent =
  | { type: 'queued'; promptId: string; number: number; position?: number }
  | { type: 'started'; promptId: string }
  | { type: 'cached'; promptId: string; nodes: string[] }
  | { type: 'node'; promptId: string; node: string; displayNode?: string }
  | { type: 'progress'; promptId: string; node: string | null; value: number; max: number }
  | { type: 'preview'; promptId: string; node: string | null; mime: PreviewMime; bytes: Buffer }
  | { type: 'text'; promptId: string; node: string; text: string }
  | { type: 'output'; promptId: string; node: string; output: NodeOutput }
  | ({ type: 'done'; promptId: string; outputs: Record<string, NodeOutput> } & ServerTiming)
  | ({ type: 'failed'; promptId: string; reason: FailureReason } & ServerTiming)
  | ({ type: 'interrupted'; promptId: string } & ServerTiming);

export type TerminalPromptEvent = Extract<PromptEvent, { type: 'done' | 'failed' | 'interrupted' }>;

/**
 * How long the prompt executed by the server's own clock: from its `execution_start` to its terminal message,
 * both timestamped by ComfyUI in the history entry. Absent when the run did not end from a history entry with
 * both (a socket-only ending, a server without timestamps): then callers measure with their own clock.
 */
export interface ServerTiming {
  executionMs?: number;
}

/** Why a prompt did not produce its outputs. */
export type FailureReason =
  | { kind: 'execution'; failure: ExecutionFailure }
  /** The server no longer knows the prompt (restart wiped queue and history). */
  | { kind: 'lost'; message: string }
  /** The bot gave up (time limit, connection gone for good). */
  | { kind: 'timeout'; message: string };

/** What the server said about a submitted prompt (`POST /prompt` 200). */
export interface SubmitResult {
  promptId: string;
  number: number;
  /** Non-empty on a 200 when some output nodes failed validation and were dropped. */
  nodeErrors: Record<string, NodeError>;
}

/** One entry of `node_errors`. */
export interface NodeError {
  class_type: string;
  dependent_outputs: string[];
  errors: ValidationReason[];
}

export interface ValidationReason {
  type: string;
  message: string;
  details: string;
  extra_info?: {
    input_name?: string;
    input_config?: unknown;
    received_value?: unknown;
    [key: string]: unknown;
  };
}

/** A downloaded output file. */
export interface OutputFile {
  node: string;
  ref: FileRef;
  /** `images`, `gifs`, `audio`, `video`, ... — the key of the UI dict it came from. */
  kind: string;
  mime: string;
  bytes: Buffer;
}
