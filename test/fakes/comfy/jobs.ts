// The [new] jobs API (`/api/jobs...`, protocol-notes §2.9) and Comfy Cloud's `/api/job/{id}/status`.
import type { Engine, HistoryEntry, QueueItem } from './engine.js';
import type { NodeOutput } from './outputs.js';

export type JobStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';
const JOB_STATUSES: readonly JobStatus[] = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'];

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UUID.test(value);
}

export type JobsAnswer = { status: number; body: unknown };

interface Job {
  id: string;
  status: JobStatus;
  priority: number;
  create_time: number;
  execution_start_time?: number;
  execution_end_time?: number;
  execution_error?: Record<string, unknown>;
  outputs_count: number;
  preview_output?: Record<string, unknown>;
  workflow_id?: string;
}

function historyStatus(entry: HistoryEntry): JobStatus {
  if (entry.status.status_str === 'success') return 'completed';
  return entry.status.messages.some(([name]) => name === 'execution_interrupted') ? 'cancelled' : 'failed';
}

function fileItems(outputs: Record<string, NodeOutput>): Record<string, unknown>[] {
  return Object.entries(outputs).flatMap(([nodeId, output]) =>
    Object.entries(output).flatMap(([mediaType, items]) =>
      Array.isArray(items) ? items.filter((i) => i !== null && typeof i === 'object').map((i) => ({ ...(i as object), nodeId, mediaType })) : [],
    ),
  );
}

function workflowId(extraData: Record<string, unknown>): string | undefined {
  const pnginfo = extraData['extra_pnginfo'] as { workflow?: { id?: unknown } } | undefined;
  return typeof pnginfo?.workflow?.id === 'string' ? pnginfo.workflow.id : undefined;
}

function prune<T extends object>(job: T): T {
  return Object.fromEntries(Object.entries(job).filter(([, v]) => v !== undefined)) as T;
}

function fromQueue(engine: Engine, item: QueueItem, status: JobStatus): Job {
  const record = engine.jobs.get(item.promptId);
  return prune({
    id: item.promptId, status, priority: item.number, create_time: item.createTime,
    execution_start_time: record?.startTime, outputs_count: 0, workflow_id: workflowId(item.extraData),
  });
}

function fromHistory(engine: Engine, id: string, entry: HistoryEntry): Job {
  const record = engine.jobs.get(id);
  const files = fileItems(entry.outputs);
  const error = entry.status.messages.find(([name]) => name === 'execution_error')?.[1];
  return prune({
    id, status: historyStatus(entry), priority: entry.prompt[0], create_time: record?.createTime ?? 0,
    execution_start_time: record?.startTime, execution_end_time: record?.endTime, execution_error: error,
    outputs_count: files.length, preview_output: files[0], workflow_id: workflowId(entry.prompt[3]),
  });
}

function allJobs(engine: Engine): Job[] {
  const jobs: Job[] = [];
  const running = engine.runningItem;
  if (running) jobs.push(fromQueue(engine, running, 'in_progress'));
  for (const item of engine.pendingItems) jobs.push(fromQueue(engine, item, 'pending'));
  for (const [id, entry] of engine.history) jobs.push(fromHistory(engine, id, entry));
  return jobs;
}

function findJob(engine: Engine, id: string): { job: Job; detail: Record<string, unknown> } | undefined {
  const entry = engine.history.get(id);
  if (entry) {
    return {
      job: fromHistory(engine, id, entry),
      detail: { outputs: entry.outputs, execution_status: entry.status, workflow: { prompt: entry.prompt[2], extra_data: entry.prompt[3] } },
    };
  }
  const running = engine.runningItem;
  const item = running?.promptId === id ? running : engine.pendingItems.find((i) => i.promptId === id);
  if (!item) return undefined;
  return {
    job: fromQueue(engine, item, item === running ? 'in_progress' : 'pending'),
    detail: { workflow: { prompt: item.prompt, extra_data: item.extraData } },
  };
}

function nonNegativeInt(value: string | null, name: string): number | undefined | Error {
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) return new Error(`${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

export function listJobs(engine: Engine, query: URLSearchParams): JobsAnswer {
  const statusParam = query.get('status');
  const statuses = statusParam ? statusParam.split(',').map((s) => s.trim()) : undefined;
  const bad = statuses?.find((s) => !JOB_STATUSES.includes(s as JobStatus));
  if (bad !== undefined) return { status: 400, body: { error: `Invalid status value: '${bad}'. Valid values: ${JOB_STATUSES.join(', ')}` } };
  const sortBy = query.get('sort_by') ?? 'created_at';
  if (sortBy !== 'created_at' && sortBy !== 'execution_duration') {
    return { status: 400, body: { error: "sort_by must be 'created_at' or 'execution_duration'" } };
  }
  const sortOrder = query.get('sort_order') ?? 'desc';
  if (sortOrder !== 'asc' && sortOrder !== 'desc') return { status: 400, body: { error: "sort_order must be 'asc' or 'desc'" } };
  const limit = nonNegativeInt(query.get('limit'), 'limit');
  const offset = nonNegativeInt(query.get('offset'), 'offset');
  if (limit instanceof Error) return { status: 400, body: { error: limit.message } };
  if (offset instanceof Error) return { status: 400, body: { error: offset.message } };
  const workflow = query.get('workflow_id');

  const key = (job: Job): number =>
    sortBy === 'created_at' ? job.create_time : (job.execution_end_time ?? 0) - (job.execution_start_time ?? 0);
  const jobs = allJobs(engine)
    .filter((job) => (!statuses || statuses.includes(job.status)) && (!workflow || job.workflow_id === workflow))
    .sort((a, b) => (sortOrder === 'asc' ? key(a) - key(b) : key(b) - key(a)));
  const start = offset ?? 0;
  const page = limit === undefined ? jobs.slice(start) : jobs.slice(start, start + limit);
  return {
    status: 200,
    body: { jobs: page, pagination: { offset: start, limit: limit ?? null, total: jobs.length, has_more: start + page.length < jobs.length } },
  };
}

export function getJob(engine: Engine, id: string): JobsAnswer {
  const found = findJob(engine, id);
  return found ? { status: 200, body: { ...found.job, ...found.detail } } : { status: 404, body: { error: 'Job not found' } };
}

export function cancelJobs(engine: Engine, body: unknown): JobsAnswer {
  const ids = (body as { job_ids?: unknown } | undefined)?.job_ids;
  if (!Array.isArray(ids)) return { status: 400, body: { error: 'job_ids must be a list of job ids' } };
  const invalid = ids.filter((id) => !isCanonicalUuid(id));
  if (invalid.length > 0) return { status: 400, body: { error: 'Invalid job ids', invalid_ids: invalid } };
  let cancelled = false;
  for (const id of ids as string[]) cancelled = engine.cancel(id) || cancelled;
  return { status: 200, body: { cancelled } };
}

/** Comfy Cloud's raw job state, as `/api/job/{id}/status` reports it. */
export function cloudJobStatus(engine: Engine, id: string): JobsAnswer {
  const found = findJob(engine, id);
  if (!found) return { status: 404, body: { error: 'Job not found' } };
  const raw: Record<JobStatus, string> = {
    pending: 'pending', in_progress: 'in_progress', completed: 'success', failed: 'error', cancelled: 'cancelled',
  };
  const updated = found.job.execution_end_time ?? found.job.execution_start_time ?? found.job.create_time;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const error = found.job.execution_error?.['exception_message'];
  return {
    status: 200,
    body: {
      id, status: raw[found.job.status], created_at: iso(found.job.create_time), updated_at: iso(updated),
      last_state_update: iso(updated), assigned_inference: found.job.status === 'pending' ? null : 'fake-inference-0',
      error_message: typeof error === 'string' ? error : null,
    },
  };
}
