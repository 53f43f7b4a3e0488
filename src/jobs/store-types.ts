// The rows of the job store: plain data, independent of the job model's classes, so the store can be read and
// tested on its own and a job can be rebuilt from a row after any number of restarts.
import type { ApiWorkflow } from '../comfy/types.js';
import type { JobMode } from './job.js';

export type JobState = 'queued' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const JOB_STATES: readonly JobState[] = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled'];
export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Delivery of a job's results: 'pending' from success until every output is posted (kept and retried across
 * restarts), then 'delivered'. Jobs that did not succeed stay 'none'.
 */
export type DeliveryState = 'none' | 'pending' | 'delivered';

/**
 * The interaction a job's card was created from; its token can edit the card until it expires. Kept only while
 * the card goes through it: dropped when the card moves to a channel message or Discord refuses the token, when
 * the job is delivered, fails or is cancelled, and at start-up once expired.
 */
export interface InteractionRef {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Where an output file lives on the backend, so a pending delivery can download it again after a restart. */
export interface OutputRef {
  node: string;
  /** The key of the UI dict it came from: images, gifs, video, audio, ... */
  kind: string;
  filename: string;
  subfolder: string;
  type: string;
}

/** An image option's bytes as the user sent them (already checked and normalised). */
/** An image input of a new job: its bytes, or a file already saved with `JobStore.saveInput`. */
export type NewJobImage = {
  option: string;
  filename: string;
  mime: string;
} & ({ bytes: Buffer; saved?: never } | { saved: SavedInput; bytes?: never });

/** A file in the store's content-addressed input folder. */
export interface SavedInput {
  sha256: string;
  size: number;
  /** Absolute path of the saved file. */
  path: string;
}

/** An image option saved under the data dir (content-addressed, so rerolls share one file). */
export interface StoredImage {
  option: string;
  filename: string;
  mime: string;
  sha256: string;
  size: number;
  /** Absolute path of the saved file. */
  path: string;
}

export interface DeliveryRecord {
  messageId: string;
  files: string[];
  /** Epoch milliseconds. */
  at: number;
}

/** Where a job came from: a follow-up action pressed on another job's card. */
export interface JobParent {
  jobId: string;
  /** The parent's output (1-based) for per-output actions, else null. */
  output: number | null;
  action: string;
}

/** What is written before the job is submitted; a new job is always 'queued'. */
export interface NewJobRow {
  id: string;
  /** Client-chosen prompt id, so the job can be found on the backend after a crash between submit and update. */
  promptId: string;
  ownerId: string;
  guildId: string | null;
  channelId: string | null;
  command: string;
  /** Resolved option values, including the random seed used. */
  params: Record<string, unknown>;
  /** The bound workflow as submitted. */
  workflow: ApiWorkflow;
  images?: NewJobImage[];
  messageId?: string | null;
  interaction?: InteractionRef | null;
  backend?: string | null;
  /** The job this one was made from (a follow-up action: reroll, edit, upscale, vary, ...). */
  parentId?: string | null;
  /** See JobRow.uploadLimit. */
  uploadLimit?: number | null;
  /** Which of the parent's outputs (1-based) the action used, for per-output actions. */
  parentOutput?: number | null;
  /** The name of the action that made this job. */
  parentAction?: string | null;
  /** Fast when absent. */
  mode?: JobMode;
}

export interface JobRow {
  id: string;
  state: JobState;
  promptId: string;
  ownerId: string;
  guildId: string | null;
  channelId: string | null;
  messageId: string | null;
  interaction: InteractionRef | null;
  command: string;
  params: Record<string, unknown>;
  workflow: ApiWorkflow;
  images: StoredImage[];
  backend: string | null;
  /** Times the job was submitted to a backend. */
  attempts: number;
  error: string | null;
  outputs: OutputRef[] | null;
  delivery: DeliveryState;
  deliveries: DeliveryRecord[];
  /**
   * Bytes per file the results are fitted and batched for (the live interaction's limit, or the detour's), so a
   * retry or a restart plans the same files in the same messages as the first attempt. Null: Discord's default.
   */
  uploadLimit: number | null;
  parentId: string | null;
  parentOutput: number | null;
  parentAction: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** GPU time of the finished job (execution ms × the backend's cost weight); null when not measured. */
  gpuMs: number | null;
  /** Whether its GPU time counts in the fast quotas (see JobMode). */
  mode: JobMode;
  /** A member's Cancel recorded for the leader to carry out (several processes); null when none was asked for. */
  cancelRequest: CancelRequest | null;
  /**
   * When the queued job began waiting for a backend because every one able to run it was down (epoch ms); null
   * when it is not waiting. Kept so that its `jobs.waitForBackendSeconds` deadline survives a restart or failover.
   */
  waitSince: number | null;
}

/**
 * Who asked to cancel a job and when, as the process that got the press decided it (the owner, or a moderator).
 * Written by any process on an unfinished job, carried out by the leader, whose scheduler holds the job.
 */
export interface CancelRequest {
  userId: string;
  isModerator: boolean;
  /** Epoch milliseconds. */
  at: number;
}

/** What `requestCancel` found: the request recorded, or why not (the first request of a job stands). */
export type CancelRequestResult = { recorded: true } | { recorded: false; reason: 'not-found' | 'finished' | 'already-requested' };

/** The fields that may change after insert. The state changes only through `transition` (compare-and-set). */
export type JobPatch = Partial<
  Pick<
    JobRow,
    | 'promptId'
    | 'messageId'
    | 'interaction'
    | 'backend'
    | 'attempts'
    | 'error'
    | 'outputs'
    | 'delivery'
    | 'uploadLimit'
    | 'params'
    | 'workflow'
    | 'startedAt'
    | 'finishedAt'
    | 'gpuMs'
    | 'waitSince'
  >
>;

/** A command a server's admins added from Discord: its command file (YAML) and template (API JSON) as text. */
export interface GuildCommandRow {
  guildId: string;
  name: string;
  commandFile: string;
  template: string;
  createdBy: string;
  createdAt: number;
}

/** One finished job's GPU time, as the fair share and the usage views read it. */
export interface GpuCharge {
  userId: string;
  guildId: string | null;
  command: string;
  backend: string | null;
  /** When the job finished (epoch ms). */
  at: number;
  gpuMs: number;
}

/** A user's GPU time in one server over a period. */
export interface GpuUserTotal {
  userId: string;
  guildId: string | null;
  gpuMs: number;
  jobs: number;
}

/**
 * Caps an admission is decided against inside the store's transaction (absent: no cap). Live jobs are those
 * queued, dispatched or running; the daily quota counts the owner's admissions of the UTC day.
 */
export interface AdmissionCaps {
  /** The owner's live jobs (a member's running plus waiting limits). */
  userLive?: number;
  /** The server's live jobs; direct messages count as one server. */
  guildLive?: number;
  dailyQuota?: number;
}

/** What `admitJob` decided: the job written, or the cap it would have broken and the count it found. */
export type Admission =
  | { admitted: true; row: JobRow }
  | { admitted: false; limit: keyof AdmissionCaps; count: number; cap: number };

/** The leader lease: who holds it, its fencing number (grows with every take-over) and until when (epoch ms). */
export interface Lease {
  holder: string;
  fence: number;
  acquiredAt: number;
  expiresAt: number;
}

/** What the operators or a server's admins set: queued jobs wait (paused), or new jobs are refused (draining). */
export type Hold = 'paused' | 'draining';

/** Where an operators' hold applies: the whole bot, or one backend (no new jobs go to it). */
export type HoldScope = { kind: 'bot' } | { kind: 'backend'; name: string };

/** Every hold in force: the operators' (the whole bot, each backend) and each server's own (its settings' `queue`). */
export interface Holds {
  bot: Hold | null;
  backends: ReadonlyMap<string, Hold>;
  guilds: ReadonlyMap<string, Hold>;
}

/** The holds as the store read them, with the servers whose settings could not be read (they hold nothing). */
export interface StoredHolds extends Holds {
  backends: Map<string, Hold>;
  guilds: Map<string, Hold>;
  unreadable: { guildId: string; error: Error }[];
}

/** The NOTIFY channel processes wake the leader on: `job:<id>` (a new queued job), `cancel:<id>` (a cancel recorded), `holds`. */
export const WAKE_CHANNEL = 'comfycord_jobs';

/** One `comfycord start` process sharing the store, as it last reported itself. */
export interface ProcessRow {
  /** Unique per process run (host, pid and a random part). */
  id: string;
  host: string;
  pid: number;
  /** The gateway shards it opened, e.g. "0,1 of 3"; "all" without sharding settings. */
  shards: string;
  role: 'leader' | 'standby';
  startedAt: number;
  heartbeatAt: number;
}
