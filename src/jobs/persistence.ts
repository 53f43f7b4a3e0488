// The bridge from a live job to the job store: the row is written when the job is accepted and follows every
// state change, so recovery after a crash finds each job where it was. The prompt id is written when the job is
// dispatched, which the scheduler signals synchronously before it calls the backend, so the store knows the id
// before ComfyUI does.
import { silentLogger, type Logger } from '../config/logger.js';
import { bindChoices } from '../templates/model-choice.js';
import type { ApiWorkflow } from '../comfy/types.js';
import type { Job, JobMode, JobSpec, JobState, JobWait, StateChange } from './job.js';
import type { JobStore } from './store.js';
import type { InteractionRef, JobParent, JobRow, NewJobImage, NewJobRow, OutputRef } from './store-types.js';

/** What the store keeps about a job that the job model does not know (where its card is, where it came from). */
export interface JobPlacement {
  channelId: string | null;
  messageId?: string | null;
  interaction?: InteractionRef | null;
  /** The job this one was made from, and how (a follow-up action). */
  parent?: JobParent | null;
  /** The image options' bytes as checked and normalised; saved so a retry or reroll can upload them again. */
  images?: NewJobImage[];
  /** Bytes per file where the card lives (the interaction's limit): results are planned for it, also later. */
  uploadLimit?: number | null;
}

export type PersistenceStore = Pick<JobStore, 'insertJob' | 'transition' | 'updateJob'>;
/** What keeping an existing row in step needs. */
export type RowKeeper = Pick<JobStore, 'transition' | 'updateJob'>;

/** The states a job may be in just before it reaches `to` (the store's compare-and-set guard). */
const PREVIOUS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['dispatched', 'running'],
  dispatched: ['queued'],
  // A job adopted after a restart starts again from dispatched while its row may already say running.
  running: ['dispatched', 'running'],
  succeeded: ['queued', 'dispatched', 'running'],
  failed: ['queued', 'dispatched', 'running'],
  cancelled: ['queued', 'dispatched', 'running'],
};

/** The row a new job is written as: the job itself (spec, ids, mode) and where its card and inputs are. */
export function newJobRow(
  job: { id: string; promptId: string; spec: Pick<JobSpec, 'owner' | 'command' | 'params' | 'workflow'>; mode: JobMode },
  placement: JobPlacement,
): NewJobRow {
  return {
    id: job.id,
    promptId: job.promptId,
    ownerId: job.spec.owner.userId,
    guildId: job.spec.owner.guildId,
    channelId: placement.channelId,
    command: job.spec.command,
    params: job.spec.params ?? {},
    workflow: job.spec.workflow,
    images: placement.images ?? [],
    messageId: placement.messageId ?? null,
    interaction: placement.interaction ?? null,
    parentId: placement.parent?.jobId ?? null,
    parentOutput: placement.parent?.output ?? null,
    parentAction: placement.parent?.action ?? null,
    uploadLimit: placement.uploadLimit ?? null,
    mode: job.mode,
  };
}

/**
 * Writes `job` and keeps its row in step until it ends; returns a function that stops following it.
 * Call it synchronously right after `scheduler.submit`: the scheduler may already have dispatched the job inside
 * submit, and the backend's request leaves only after the current tick, so the row (with the prompt id) is still
 * written first.
 */
export function persistJob(store: PersistenceStore, job: Job, placement: JobPlacement, logger: Logger = silentLogger): () => void {
  const log = logger.child({ job: job.id });
  const written = guarded(log, 'the new job', () => store.insertJob(newJobRow({ id: job.id, promptId: job.promptId ?? '', spec: job.spec, mode: job.mode }, placement)));
  // Without its row there is nothing to keep in step; the job itself runs on.
  if (!written) return () => undefined;
  return followPersisted(store, job, { state: 'queued', waitSince: null }, log);
}

/**
 * Keeps a job's existing row in step until the job ends (`row`: what the row says now); returns a function that
 * stops following it. Recovery adopts a restored job's row through this.
 */
export function followPersisted(store: RowKeeper, job: Job, row: Pick<JobRow, 'state' | 'waitSince'>, log: Logger): () => void {
  // Dispatched inside submit, before anyone could listen. (A row that is not queued is one recovery handed in.)
  if (job.state !== 'queued' && row.state === 'queued') {
    record(store, job, { state: job.state, previous: 'queued', backend: job.backend, promptId: job.promptId, error: job.error, attempt: job.attempt }, log);
  }

  const onState = (change: StateChange) => record(store, job, change, log);
  const onPrompt = ({ promptId }: { promptId: string }): void => void guarded(log, 'prompt id', () => store.updateJob(job.id, { promptId }));
  // When a queued job began waiting for a backend, so its deadline survives a restart or failover (OutageWatch.carry).
  let waitSince = row.waitSince;
  const onWait = (wait: JobWait | null): void => {
    const since = wait?.reason === 'no-backend' ? wait.since : null;
    if (since === waitSince) return;
    waitSince = since;
    void guarded(log, 'wait for a backend', () => store.updateJob(job.id, { waitSince: since }));
  };
  const detach = () => {
    job.off('state', onState);
    job.off('prompt', onPrompt);
    job.off('wait', onWait);
  };
  job.on('state', onState);
  job.on('prompt', onPrompt);
  job.on('wait', onWait);
  void job.done.then(detach);
  return detach;
}

function record(store: RowKeeper, job: Job, change: StateChange, log: Logger): void {
  void guarded(log, `state ${change.state}`, () => {
    const moved = store.transition(job.id, PREVIOUS[change.state], change.state, patchFor(job, change));
    // The row is elsewhere already: another writer (recovery, an admin tool) got there first; the store wins.
    if (!moved) log.warn({ state: change.state, previous: change.previous }, 'job row was not in the expected state; left as it is');
  });
}

function patchFor(job: Job, change: StateChange) {
  switch (change.state) {
    case 'dispatched':
      return { promptId: change.promptId ?? '', backend: change.backend, attempts: change.attempt, ...chosenModels(job) };
    case 'queued':
      // Models chosen for the backend that was lost are chosen again at the next dispatch (recovery included).
      return { backend: null, ...(job.spec.choices?.length ? { params: job.params } : {}) };
    case 'running':
      return {};
    case 'succeeded':
      return { outputs: outputRefs(job), error: null, ...gpu(job) };
    case 'failed':
    case 'cancelled':
      return { error: change.error, ...gpu(job) };
  }
}

/**
 * The models chosen on the backend, in the params and bound in the workflow, so a restart adopts the run as it was
 * submitted and the card and follow-up actions see the model it ran with.
 */
function chosenModels(job: Job): { params?: Record<string, unknown>; workflow?: ApiWorkflow } {
  const chosen = job.data.chosen;
  const choices = job.spec.choices;
  if (chosen === null || !choices?.length) return {};
  return { params: job.params, workflow: bindChoices(job.spec.workflow, choices, chosen) };
}

function gpu(job: Job): { gpuMs?: number } {
  return job.gpuMs === null ? {} : { gpuMs: job.gpuMs };
}

function outputRefs(job: Job): OutputRef[] {
  return (job.outputs ?? []).map((file) => ({
    node: file.node,
    kind: file.kind,
    filename: file.ref.filename,
    subfolder: file.ref.subfolder,
    type: file.ref.type,
  }));
}

/** A store failure must not take the running job down with it: it is logged with what was being written. */
function guarded(log: Logger, what: string, write: () => unknown): boolean {
  try {
    write();
    return true;
  } catch (error) {
    log.error({ err: error }, `job store: could not record ${what}`);
    return false;
  }
}
