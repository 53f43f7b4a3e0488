// One command invocation and its life: queued → dispatched → running → succeeded | failed | cancelled.
// Consumers get a read-only `Job` (events + snapshot); only the scheduler holds the `JobControl` that moves it,
// and every move is checked against one transition table, so an illegal transition cannot happen quietly and
// a job reaches exactly one final state.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ApiWorkflow, OutputFile, PreviewMime } from '../comfy/types.js';
import type { LimitOverride } from '../config/schema.js';
import type { CommandLimits } from '../templates/definition.js';
import type { PendingChoice } from '../templates/model-choice.js';
import type { ResolvedTarget } from '../templates/targets.js';

export type JobState = 'queued' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type FinalState = Extract<JobState, 'succeeded' | 'failed' | 'cancelled'>;

const FINAL_STATES: ReadonlySet<JobState> = new Set<FinalState>(['succeeded', 'failed', 'cancelled']);

/** Allowed moves. `queued` again means "the backend was lost; back to the head of the queue". */
const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['dispatched', 'failed', 'cancelled'],
  dispatched: ['running', 'queued', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export interface JobOwner {
  userId: string;
  guildId: string | null;
  roles: string[];
}

/**
 * An image option's content, already checked and made compact by the caller; uploaded to the chosen backend.
 * Either the bytes themselves (the CLI's one-off runs) or a saved file that is read only at upload time, so a
 * queued job holds no image in memory (the bot).
 */
export type JobImage = {
  option: string;
  filename: string;
  /** Where the uploaded name goes (from the prepared job's image input). */
  target: ResolvedTarget;
} & ImageContent;

export type ImageContent = { bytes: Buffer; path?: never } | { path: string; bytes?: never };

/** The image's bytes: in memory, or read from its file now. */
export async function jobImageBytes(image: JobImage): Promise<Buffer> {
  return image.bytes ?? readFile(image.path);
}

/**
 * How a job's GPU time is counted and when it runs. `fast`: against the owner's GPU-minute quotas, in the fair
 * share. `relax`: not counted in those quotas, dispatched only when no fast job that could start waits, and later
 * the more relax GPU time its owner used today (scheduler/relax.ts).
 */
export type JobMode = 'fast' | 'relax';
export const JOB_MODES: readonly JobMode[] = ['fast', 'relax'];

/** What admission decides a submission's mode from: the member's choice (`/settings mode`) and their server's rule. */
export interface ModeRequest {
  preferred: JobMode;
  /** The server (or, in DMs and by default, the operator's config) lets jobs run in relax. */
  relaxAllowed: boolean;
}

export interface JobSpec {
  /** Stable id (restored jobs keep theirs); a new UUID when absent. */
  id?: string;
  owner: JobOwner;
  command: string;
  /** The workflow with every option bound except image inputs (bound after upload, on the chosen backend). */
  workflow: ApiWorkflow;
  params?: Record<string, unknown>;
  /**
   * Model options the member left to the command's preference: their target still holds the template's value,
   * and only a BoundSpec (made at dispatch for the chosen backend) can reach a backend.
   */
  choices?: readonly PendingChoice[];
  images?: JobImage[];
  /** Output node ids whose files are downloaded; all output nodes when absent. */
  outputs?: string[];
  /** Limits carried by the command file (`CommandDefinition.limits`). */
  commandLimits?: CommandLimits;
  /**
   * Overrides that apply to this submission besides the configured ones: the owner's guild's per-role limits
   * (`policy.limitOverridesFor`). Admission only; a restored job is not admitted again, so they are not kept.
   */
  limitOverrides?: LimitOverride[];
  /** Admission input: how the member asked to run it (fast, counted, when absent). Not kept: `mode` is the outcome. */
  modeRequest?: ModeRequest;
  /** The mode the job runs in, set by the scheduler at admission and kept by the store (fast when absent). */
  mode?: JobMode;
}

/** A spec a backend may run: no choice is left to resolve (the scheduler binds them for the backend it picked). */
export type BoundSpec = Readonly<JobSpec> & { readonly choices?: undefined };

/** Whether the spec has nothing left to resolve. */
export function isBound(spec: Readonly<JobSpec>): spec is BoundSpec {
  return spec.choices === undefined || spec.choices.length === 0;
}

export interface StateChange {
  state: JobState;
  previous: JobState | null;
  backend: string | null;
  promptId: string | null;
  error: string | null;
  attempt: number;
}

export interface JobPosition {
  /** 0-based place in the predicted dispatch order of all waiting jobs. */
  global: number;
  /** 0-based place among the owner's own waiting jobs. */
  user: number;
  /** Estimated milliseconds until the job finishes; null while no run time of this command is known, or held. */
  eta: number | null;
  /** Its server's admins paused the server's jobs: it waits behind every job that can run. */
  held: boolean;
}

export interface JobProgress {
  value: number;
  max: number;
  node: string | null;
  /** `_meta.title` of that node in the workflow, else its class type. */
  nodeTitle: string | null;
}

export interface JobRetry {
  backend: string;
  reason: string;
  /** Attempts used so far (the next one is attempt + 1). */
  attempt: number;
}

/**
 * Why a job is not moving through no fault of its own: its ComfyUI server is unreachable (it resumes there when the
 * server is back, or moves elsewhere once the server is declared lost), or it waits in the queue because every
 * server able to run it is down (it fails at `until` unless one comes back). `since` is when that began.
 */
export type JobWait =
  | { reason: 'backend-unreachable'; backend: string; since: number }
  | { reason: 'no-backend'; since: number; until: number };

export interface JobResult {
  outputs: OutputFile[];
}

export interface JobEvents {
  state: [StateChange];
  position: [JobPosition];
  progress: [JobProgress];
  node: [{ node: string; nodeTitle: string | null }];
  preview: [{ mime: PreviewMime; bytes: Buffer }];
  retry: [JobRetry];
  /** The job started or stopped waiting on an outage (null: it is not waiting any more). */
  wait: [JobWait | null];
  /** The server kept its own prompt id (servers before client-chosen ids): the id to record instead. */
  prompt: [{ promptId: string }];
  outputs: [JobResult];
}

/** Plain JSON that rebuilds the job (image bytes as base64). */
export interface JobSnapshot {
  id: string;
  owner: JobOwner;
  command: string;
  workflow: ApiWorkflow;
  params: Record<string, unknown>;
  choices: PendingChoice[] | null;
  images: ({ option: string; filename: string; target: ResolvedTarget } & ({ base64: string } | { path: string }))[];
  outputs: string[] | null;
  commandLimits: CommandLimits | null;
  state: JobState;
  backend: string | null;
  promptId: string | null;
  attempt: number;
  error: string | null;
  createdAt: number;
  dispatchedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly jobId: string,
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`job ${jobId}: cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

interface JobData {
  state: JobState;
  backend: string | null;
  promptId: string | null;
  attempt: number;
  error: string | null;
  dispatchedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  outputs: OutputFile[] | null;
  /** GPU time charged for the run that ended the job (ms, weighted by the backend's cost); null when none ran. */
  gpuMs: number | null;
  /** The outage the job is waiting on now, if any (not stored: it is worked out again after a restart). */
  wait: JobWait | null;
  /** The models chosen for the spec's pending choices on the backend of the current dispatch (option → name). */
  chosen: Readonly<Record<string, string>> | null;
}

export class Job extends EventEmitter<JobEvents> {
  readonly id: string;
  readonly spec: Readonly<JobSpec>;
  readonly createdAt: number;
  /** @internal written only through JobControl */
  readonly data: JobData;
  private finalResolve!: (state: FinalState) => void;
  /** Settles once, with the final state. */
  readonly done: Promise<FinalState>;

  constructor(spec: JobSpec, createdAt: number, data?: Partial<JobData>) {
    super();
    this.id = spec.id ?? randomUUID();
    this.spec = { ...spec, id: this.id };
    this.createdAt = createdAt;
    this.data = {
      state: 'queued',
      backend: null,
      promptId: null,
      attempt: 0,
      error: null,
      dispatchedAt: null,
      startedAt: null,
      finishedAt: null,
      outputs: null,
      gpuMs: null,
      wait: null,
      chosen: null,
      ...data,
    };
    this.done = new Promise((resolve) => (this.finalResolve = resolve));
  }

  get state(): JobState {
    return this.data.state;
  }
  get owner(): JobOwner {
    return this.spec.owner;
  }
  get command(): string {
    return this.spec.command;
  }
  get backend(): string | null {
    return this.data.backend;
  }
  get promptId(): string | null {
    return this.data.promptId;
  }
  get attempt(): number {
    return this.data.attempt;
  }
  get error(): string | null {
    return this.data.error;
  }
  get outputs(): readonly OutputFile[] | null {
    return this.data.outputs;
  }
  get gpuMs(): number | null {
    return this.data.gpuMs;
  }
  get wait(): JobWait | null {
    return this.data.wait;
  }
  /** The option values it runs with: the spec's, plus the models chosen on its backend once dispatched. */
  get params(): Record<string, unknown> {
    const chosen = this.data.chosen;
    return chosen === null ? (this.spec.params ?? {}) : { ...this.spec.params, ...chosen };
  }
  get mode(): JobMode {
    return this.spec.mode ?? 'fast';
  }
  get final(): boolean {
    return FINAL_STATES.has(this.data.state);
  }

  /** The title shown for a node: its `_meta.title`, else its class type. */
  nodeTitle(node: string | null): string | null {
    if (node === null) return null;
    const entry = this.spec.workflow[node];
    return entry?._meta?.title ?? entry?.class_type ?? null;
  }

  snapshot(): JobSnapshot {
    const { spec, data } = this;
    return {
      id: this.id,
      owner: { ...spec.owner, roles: [...spec.owner.roles] },
      command: spec.command,
      workflow: structuredClone(spec.workflow),
      params: structuredClone(spec.params ?? {}),
      choices: spec.choices ? structuredClone([...spec.choices]) : null,
      images: (spec.images ?? []).map((i) => ({
        option: i.option,
        filename: i.filename,
        ...(i.bytes ? { base64: i.bytes.toString('base64') } : { path: i.path }),
        target: structuredClone(i.target),
      })),
      outputs: spec.outputs ? [...spec.outputs] : null,
      commandLimits: spec.commandLimits ? { ...spec.commandLimits } : null,
      state: data.state,
      backend: data.backend,
      promptId: data.promptId,
      attempt: data.attempt,
      error: data.error,
      createdAt: this.createdAt,
      dispatchedAt: data.dispatchedAt,
      startedAt: data.startedAt,
      finishedAt: data.finishedAt,
    };
  }

  /** @internal */
  settle(state: FinalState): void {
    this.finalResolve(state);
  }
}

/** Rebuilds the spec of a snapshot (for `scheduler.restore`). */
export function specFromSnapshot(s: JobSnapshot): JobSpec {
  return {
    id: s.id,
    owner: s.owner,
    command: s.command,
    workflow: s.workflow,
    params: s.params,
    ...(s.choices ? { choices: s.choices } : {}),
    images: s.images.map((i) => ({
      option: i.option,
      filename: i.filename,
      ...('base64' in i ? { bytes: Buffer.from(i.base64, 'base64') } : { path: i.path }),
      target: i.target,
    })),
    ...(s.outputs ? { outputs: s.outputs } : {}),
    ...(s.commandLimits ? { commandLimits: s.commandLimits } : {}),
  };
}

/** The scheduler's handle on a job: every method is one transition of the table above. */
export class JobControl {
  constructor(
    readonly job: Job,
    private readonly now: () => number,
  ) {}

  /**
   * Sent synchronously before the submit call, so a listening store records the prompt id (and the models chosen
   * for the spec's pending choices on this backend) first.
   */
  dispatch(backend: string, promptId: string, chosen: Readonly<Record<string, string>> | null = null): void {
    const d = this.job.data;
    this.move('dispatched', () => {
      d.backend = backend;
      d.promptId = promptId;
      d.chosen = chosen;
      d.attempt += 1;
      d.dispatchedAt = this.now();
    });
  }

  /** The server answered with another prompt id than the one sent. */
  promptAssigned(promptId: string): void {
    if (this.job.data.promptId === promptId) return;
    this.job.data.promptId = promptId;
    this.job.emit('prompt', { promptId });
  }

  start(): void {
    if (this.job.state === 'running') return;
    // An adopted run keeps the start time it had before the restart.
    this.move('running', () => (this.job.data.startedAt ??= this.now()));
  }

  /** Back to the queue after a lost backend; the retry event tells the owner. */
  requeue(reason: string): void {
    const d = this.job.data;
    const backend = d.backend ?? 'unknown';
    this.move('queued', () => {
      d.backend = null;
      d.promptId = null;
      // Chosen again on whichever backend takes it next.
      d.chosen = null;
      d.dispatchedAt = null;
      d.startedAt = null;
    });
    this.job.emit('retry', { backend, reason, attempt: d.attempt });
  }

  /** The outage the job waits on now, or null when it waits on none any more; told to listeners. */
  setWait(wait: JobWait | null): void {
    if (this.job.final) return;
    this.job.data.wait = wait;
    this.job.emit('wait', wait);
  }

  /** The GPU time of the run about to end the job; call before the final move so the state event carries it. */
  chargeGpu(ms: number): void {
    if (!this.job.final) this.job.data.gpuMs = Math.max(0, Math.round(ms));
  }

  /** Final moves return false when the job already ended (the losing side of a race), never throw for it. */
  succeed(outputs: OutputFile[]): boolean {
    if (this.job.final) return false;
    if (this.job.state === 'dispatched') this.start();
    this.job.data.outputs = outputs;
    this.finish('succeeded', null);
    this.job.emit('outputs', { outputs });
    return true;
  }

  fail(error: string): boolean {
    if (this.job.final) return false;
    this.finish('failed', error);
    return true;
  }

  cancel(reason: string | null = null): boolean {
    if (this.job.final) return false;
    this.finish('cancelled', reason);
    return true;
  }

  private finish(state: FinalState, error: string | null): void {
    this.move(state, () => {
      this.job.data.error = error;
      this.job.data.finishedAt = this.now();
    });
    this.job.settle(state);
  }

  private move(to: JobState, apply: () => void): void {
    const d = this.job.data;
    const from = d.state;
    if (!TRANSITIONS[from].includes(to)) throw new IllegalTransitionError(this.job.id, from, to);
    apply();
    d.state = to;
    this.job.emit('state', {
      state: to,
      previous: from,
      backend: d.backend,
      promptId: d.promptId,
      error: d.error,
      attempt: d.attempt,
    });
  }
}
