// Typed failures of the ComfyUI client. Every error names the backend and the route it came from, so a
// log line or a Discord message can say where things went wrong without any extra context.
import { comboOptions } from './combo.js';
import { isObject } from './messages.js';
import type { ApiWorkflow, ExecutionFailure, NodeError, ValidationReason } from './types.js';

export interface ErrorPlace {
  backend: string;
  route: string;
}

export class ComfyError extends Error {
  readonly backend: string;
  readonly route: string;
  constructor(place: ErrorPlace, message: string, options?: { cause?: unknown }) {
    super(`${place.backend} ${place.route}: ${message}`, options);
    this.name = new.target.name;
    this.backend = place.backend;
    this.route = place.route;
  }
}

/** A non-2xx answer that is not a validation failure. `body` is the raw text (may be empty). */
export class ComfyHttpError extends ComfyError {
  readonly status: number;
  readonly body: string;
  constructor(place: ErrorPlace, status: number, body: string, explanation?: string) {
    super(place, explanation ?? defaultExplanation(status, body));
    this.status = status;
    this.body = body;
  }
}

function defaultExplanation(status: number, body: string): string {
  const text = body.trim().split('\n').filter(Boolean).slice(0, 2).join(' — ');
  if (status === 403) {
    return 'HTTP 403 forbidden: ComfyUI rejects requests whose Origin does not match its Host (check the reverse proxy, or start ComfyUI with --enable-cors-header)';
  }
  if (status === 413) return 'HTTP 413: request body too large for the server (--max-upload-size)';
  if (status === 404) return `HTTP 404 not found${text ? `: ${text}` : ''}`;
  return `HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
}

/** Refused, reset, DNS failure or timeout: the server could not be talked to at all. */
export class ComfyConnectionError extends ComfyError {
  readonly code: string;
  readonly url: string;
  constructor(place: ErrorPlace, url: string, code: string, cause?: unknown) {
    super(place, `cannot reach ComfyUI at ${url}: ${code}`, { cause });
    this.code = code;
    this.url = url;
  }
}

/** The server said something this client cannot understand (bad JSON, wrong shape). */
export class ComfyProtocolError extends ComfyError {}

/** One readable problem of a rejected prompt. */
export interface ValidationProblem {
  nodeId: string | null;
  classType: string | null;
  /** `_meta.title` from the submitted workflow, else the class type. */
  nodeTitle: string | null;
  inputName: string | null;
  receivedValue: unknown;
  type: string;
  message: string;
  details: string;
}

interface PromptErrorBody {
  error: { type: string; message: string; details: string; extra_info?: Record<string, unknown> };
  node_errors: Record<string, NodeError>;
}

/** 400 from `POST /prompt`: graph-level (`errorType`) and per-node, per-input reasons. */
export class ComfyValidationError extends ComfyError {
  readonly errorType: string;
  readonly nodeErrors: Record<string, NodeError>;
  readonly problems: ValidationProblem[];
  constructor(place: ErrorPlace, body: PromptErrorBody, workflow?: ApiWorkflow) {
    const problems = collectProblems(body, workflow);
    super(place, `prompt rejected (${body.error.type}): ${problems.map(describeProblem).join('; ')}`);
    this.errorType = body.error.type;
    this.nodeErrors = body.node_errors;
    this.problems = problems;
  }

  /** One line per problem, e.g. "KSampler.steps: 80 is above the maximum 50". */
  describe(): string[] {
    return this.problems.map(describeProblem);
  }
}

export function isPromptErrorBody(value: unknown): value is PromptErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const error = v.error as Record<string, unknown> | undefined;
  return typeof error === 'object' && error !== null && typeof error.type === 'string';
}

function collectProblems(body: PromptErrorBody, workflow?: ApiWorkflow): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [nodeId, entry] of Object.entries(body.node_errors ?? {})) {
    const title = workflow?.[nodeId]?._meta?.title ?? entry.class_type ?? null;
    for (const reason of entry.errors ?? []) {
      problems.push({
        nodeId,
        classType: entry.class_type ?? null,
        nodeTitle: title,
        inputName: reason.extra_info?.input_name ?? null,
        receivedValue: reason.extra_info?.received_value,
        type: reason.type,
        message: describeReason(reason),
        details: reason.details,
      });
    }
  }
  if (problems.length === 0) {
    const extra = body.error.extra_info ?? {};
    const nodeId = typeof extra.node_id === 'string' ? extra.node_id : null;
    const classType = typeof extra.class_type === 'string' ? extra.class_type : null;
    problems.push({
      nodeId,
      classType,
      nodeTitle: typeof extra.node_title === 'string' ? extra.node_title : classType,
      inputName: null,
      receivedValue: undefined,
      type: body.error.type,
      message: graphMessage(body.error),
      details: body.error.details,
    });
  }
  return problems;
}

function graphMessage(error: PromptErrorBody['error']): string {
  switch (error.type) {
    case 'prompt_no_outputs':
      return 'the workflow has no output node (add a SaveImage or PreviewImage)';
    case 'no_prompt':
      return 'the request carried no workflow';
    case 'invalid_prompt_id':
      return `the server rejected the prompt id: ${error.message}`;
    default:
      return error.details && !error.message.includes(error.details)
        ? `${error.message} (${error.details})`
        : error.message;
  }
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function inputOptions(reason: ValidationReason): Record<string, unknown> {
  const config = reason.extra_info?.input_config;
  if (Array.isArray(config) && typeof config[1] === 'object' && config[1] !== null) {
    return config[1] as Record<string, unknown>;
  }
  return {};
}

function describeReason(reason: ValidationReason): string {
  const received = reason.extra_info?.received_value;
  const config = reason.extra_info?.input_config;
  switch (reason.type) {
    case 'value_bigger_than_max':
      return `${quote(received)} is above the maximum ${String(inputOptions(reason).max ?? '')}`.trim();
    case 'value_smaller_than_min':
      return `${quote(received)} is below the minimum ${String(inputOptions(reason).min ?? '')}`.trim();
    case 'value_not_in_list': {
      const choices = Array.isArray(config) ? comboOptions(config) : undefined;
      return choices && choices.length <= 10
        ? `${quote(received)} is not one of ${choices.map(String).join(', ')}`
        : `${quote(received)} is not one of the installed choices`;
    }
    case 'required_input_missing':
      return 'required input is missing';
    case 'invalid_input_type': {
      const type = Array.isArray(config) && typeof config[0] === 'string' ? config[0] : 'value of this type';
      return `${quote(received)} is not a valid ${type}`;
    }
    case 'return_type_mismatch': {
      const expected = Array.isArray(config) && typeof config[0] === 'string' ? config[0] : '?';
      return `linked output is ${String(reason.extra_info?.received_type ?? '?')} but ${expected} is expected`;
    }
    case 'custom_validation_failed':
      return reason.details || reason.message;
    case 'exception_during_inner_validation':
      return `an upstream link is broken (${reason.details})`;
    default:
      return reason.details ? `${reason.message}: ${reason.details}` : reason.message;
  }
}

function describeProblem(p: ValidationProblem): string {
  const who = [p.nodeTitle ?? (p.nodeId ? `node ${p.nodeId}` : ''), p.inputName].filter(Boolean).join('.');
  return who ? `${who}: ${p.message}` : p.message;
}

/** "KSampler (node 3)" for a run-time failure, or null when ComfyUI did not say which node failed. */
export function failedNode(failure: ExecutionFailure): string | null {
  if (!failure.nodeType) return null;
  return failure.nodeId ? `${failure.nodeType} (node ${failure.nodeId})` : failure.nodeType;
}

/** One per-node reason of a v2 `invalid_workflow`, from either shape the servers send. */
export interface V2NodeProblem {
  nodeId: string;
  classType: string | null;
  field: string | null;
  reason: string;
}

/**
 * A v2 error envelope `{error:{code,message,details}}`. `retryAfterMs` is set from `Retry-After` on 429s
 * (`queue_full`, `rate_limited`, `too_many_streams`, `deployment_not_ready`).
 */
export class ComfyV2Error extends ComfyError {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterMs: number | undefined;
  readonly problems: V2NodeProblem[];
  constructor(place: ErrorPlace, status: number, code: string, message: string, details: unknown, retryAfterMs?: number, options?: { cause?: unknown }) {
    const problems = code === 'invalid_workflow' ? v2Problems(details) : [];
    super(place, v2Explanation(status, code, message, problems), options);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
    this.problems = problems;
  }

  /** One line per problem, e.g. "EmptyImage (node 1).width: Value -5 smaller than min of 1". */
  describe(): string[] {
    return this.problems.map((p) => `${p.classType ? `${p.classType} (node ${p.nodeId})` : `node ${p.nodeId}`}${p.field ? `.${p.field}` : ''}: ${p.reason}`);
  }
}

function v2Explanation(status: number, code: string, message: string, problems: V2NodeProblem[]): string {
  switch (code) {
    case 'insufficient_credits':
      return 'the Comfy account has run out of credits: top it up on platform.comfy.org';
    case 'unauthorized':
      return 'the API key was refused (HTTP 401): check the backend apiKey';
    case 'workflow_format_ui':
      return 'the workflow is in UI format; export it with "Export (API)"';
    case 'invalid_workflow':
      return problems.length ? `workflow rejected: ${problems.map((p) => `${p.field ?? `node ${p.nodeId}`}: ${p.reason}`).join('; ')}` : `workflow rejected: ${message}`;
    default:
      return `HTTP ${status} ${code}: ${message}`;
  }
}

/** The spec's `node_errors[id] = [{field, reason}]` and ComfyUI's native `{errors:[…], class_type}` both read. */
function v2Problems(details: unknown): V2NodeProblem[] {
  const nodeErrors = isObject(details) && isObject(details.node_errors) ? details.node_errors : {};
  const problems: V2NodeProblem[] = [];
  for (const [nodeId, entry] of Object.entries(nodeErrors)) {
    if (Array.isArray(entry)) {
      for (const item of entry) {
        if (isObject(item)) problems.push({ nodeId, classType: null, field: typeof item.field === 'string' ? item.field : null, reason: String(item.reason ?? '') });
      }
    } else if (isObject(entry) && Array.isArray(entry.errors)) {
      const classType = typeof entry.class_type === 'string' ? entry.class_type : null;
      for (const reason of entry.errors as ValidationReason[]) {
        problems.push({ nodeId, classType, field: reason.extra_info?.input_name ?? null, reason: describeReason(reason) });
      }
    }
  }
  return problems;
}
