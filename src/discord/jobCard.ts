// Job events → the card editor: what one job's card shows from queued to its final state. The editor throttles
// and coalesces; this only decides what the newest state of the card is, and delivers the outputs at the end.
// Preview frames are not encoded on arrival: the update carries a step that encodes the newest frame when the
// editor is about to send it, so the frames a card never shows cost nothing.
import type { OutputFile } from '../comfy/types.js';
import { silentLogger, type Logger } from '../config/logger.js';
import type { FinalState, Job, JobPosition, JobProgress } from '../jobs/job.js';
import type { EncodedPreview } from '../media/preview.js';
import type { FinishOutcome, PrepareView } from './cardEditor.js';
import { formatDuration, type CardFile, type CardState, type CardView } from './cardRenderer.js';
import { toCardFiles, type DeliveryPlan } from './delivery.js';

/** The part of CardEditor a card needs (a fake in unit tests). */
export interface CardSink {
  update(view: CardView, prepare?: PrepareView): void;
  finish(view: CardView, files?: CardFile[]): Promise<FinishOutcome>;
}

export interface JobCardOptions {
  job: Job;
  editor: CardSink;
  /** Everything of the view but its state. */
  base: Omit<CardView, 'state'>;
  /** The scheduler's view of where a waiting job stands, and how many wait in all. */
  position: () => JobPosition | undefined;
  queueSize: () => number;
  /** Keeps a preview frame as the job's newest; it is encoded only if `latestPreview` asks for it. */
  offerPreview: (jobId: string, bytes: Buffer) => void;
  /** The job's newest frame, encoded now if it is not yet (null before any frame); rejects when encoding failed. */
  latestPreview: (jobId: string) => Promise<EncodedPreview | null>;
  /** Plans the delivery of the outputs (fitting, batching). */
  planDelivery: (outputs: readonly OutputFile[]) => Promise<DeliveryPlan>;
  /** Posts the files of the second and later batches, each as a message of its own. */
  postBatch: (files: CardFile[], batch: number, of: number) => Promise<void>;
  /** Who pressed Cancel, when someone did (null: the bot or the server ended it). */
  cancelledBy: () => string | null;
  /** How many outputs get an Upscale button. */
  upscaleCount: (plan: DeliveryPlan) => number;
  /** How often a running card refreshes its elapsed time when the job reports nothing. */
  tickMs?: number;
  now?: () => number;
  onPreviewShown?: () => void;
  logger?: Logger;
}

export interface JobCardResult {
  state: FinalState;
  outcome: FinishOutcome;
  /** The files that reached Discord (empty unless the job succeeded). */
  delivered: string[];
}

export const DEFAULT_TICK_MS = 5000;

/** Follows `job` until it ends and its final card (with the outputs) is delivered or given up on. */
export async function followJobCard(options: JobCardOptions): Promise<JobCardResult> {
  const { job, editor } = options;
  const now = options.now ?? Date.now;
  const log = (options.logger ?? silentLogger).child({ job: job.id });
  let step: { value: number; max: number } | null = null;
  let nodeTitle: string | null = null;
  let preview: EncodedPreview | null = null;
  /** A frame arrived that the card has not encoded yet. */
  let freshFrame = false;
  /** Position and ETA as the card last showed them (null unless queued): a queued card changes only with those. */
  let shownQueue: string | null = null;
  let position = options.position();

  const elapsedSeconds = (): number => {
    const since = job.data.startedAt ?? job.data.dispatchedAt ?? now();
    return Math.max(0, (now() - since) / 1000);
  };
  const liveState = (): CardState => {
    if (job.state === 'queued') {
      const global = position?.global ?? 0;
      const eta = position?.eta ?? null;
      return { kind: 'queued', position: global + 1, of: Math.max(options.queueSize(), global + 1), etaSeconds: eta === null ? null : eta / 1000 };
    }
    return { kind: 'running', elapsedSeconds: elapsedSeconds(), step, nodeTitle, preview };
  };
  const withNewestPreview: PrepareView = async () => {
    freshFrame = false;
    try {
      const encoded = await options.latestPreview(job.id);
      if (encoded && encoded !== preview && job.state !== 'queued') {
        preview = encoded;
        options.onPreviewShown?.();
      }
    } catch (error) {
      log.warn({ err: error }, 'preview frame could not be re-encoded; skipped');
    }
    return { ...options.base, state: liveState() };
  };
  const show = (): void => {
    if (job.final) return;
    const state = liveState();
    if (state.kind === 'queued') {
      const shown = `${state.position}|${state.etaSeconds == null ? '' : formatDuration(state.etaSeconds)}`;
      if (shown === shownQueue) return;
      shownQueue = shown;
    } else {
      shownQueue = null;
    }
    editor.update({ ...options.base, state }, state.kind === 'running' && freshFrame ? withNewestPreview : undefined);
  };

  const onState = (): void => {
    if (job.state === 'queued') {
      // Back in the queue after a lost backend: the old run's progress means nothing any more.
      step = null;
      nodeTitle = null;
      preview = null;
      freshFrame = false;
      position = options.position();
    }
    show();
  };
  const onPosition = (next: JobPosition): void => {
    position = next;
    show();
  };
  const onProgress = (progress: JobProgress): void => {
    step = { value: progress.value, max: progress.max };
    nodeTitle = progress.nodeTitle ?? nodeTitle;
    show();
  };
  const onNode = (node: { nodeTitle: string | null }): void => {
    // A new node's own steps start over; the bar of the previous node would be misleading.
    step = null;
    nodeTitle = node.nodeTitle;
    show();
  };
  const onPreview = ({ bytes }: { bytes: Buffer }): void => {
    options.offerPreview(job.id, bytes);
    freshFrame = true;
    show();
  };
  job.on('state', onState);
  job.on('position', onPosition);
  job.on('progress', onProgress);
  job.on('node', onNode);
  job.on('preview', onPreview);
  const ticker = setInterval(() => {
    if (job.state === 'running' || job.state === 'dispatched') show();
  }, options.tickMs ?? DEFAULT_TICK_MS);
  ticker.unref();
  show();

  let state: FinalState;
  try {
    state = await job.done;
  } finally {
    clearInterval(ticker);
    job.off('state', onState);
    job.off('position', onPosition);
    job.off('progress', onProgress);
    job.off('node', onNode);
    job.off('preview', onPreview);
  }
  return finish(options, state, elapsedSeconds());
}

async function finish(options: JobCardOptions, state: FinalState, elapsed: number): Promise<JobCardResult> {
  const { job, editor, base } = options;
  if (state === 'failed') {
    const outcome = await editor.finish({ ...base, state: { kind: 'failed', message: job.error ?? 'the job failed' } });
    return { state, outcome, delivered: [] };
  }
  if (state === 'cancelled') {
    const outcome = await editor.finish({ ...base, state: { kind: 'cancelled', byUserId: options.cancelledBy() } });
    return { state, outcome, delivered: [] };
  }
  const { outcome, delivered } = await deliverResults(options, job.outputs ?? [], elapsed);
  return { state, outcome, delivered };
}

export type ResultDelivery = Pick<JobCardOptions, 'editor' | 'base' | 'planDelivery' | 'postBatch' | 'upscaleCount' | 'logger'>;

/**
 * The succeeded card with the first batch of outputs attached, then each further batch as a message of its own.
 * Also used for results whose delivery a restart interrupted.
 */
export async function deliverResults(
  options: ResultDelivery,
  outputs: readonly OutputFile[],
  elapsedSeconds: number | null,
): Promise<{ outcome: FinishOutcome; delivered: string[] }> {
  const { editor, base } = options;
  const plan = await options.planDelivery(outputs);
  const [first = [], ...rest] = plan.batches;
  const view: CardView = {
    ...base,
    state: {
      kind: 'succeeded',
      summary: plan.summary,
      notes: plan.notes,
      elapsedSeconds,
      imageName: plan.embedImage,
      upscaleCount: options.upscaleCount(plan),
    },
  };
  const outcome = await editor.finish(view, toCardFiles(first));
  const delivered = outcome.delivered ? first.map((file) => file.name) : [];
  for (const [i, files] of rest.entries()) {
    try {
      await options.postBatch(toCardFiles(files), i + 2, plan.batches.length);
      delivered.push(...files.map((file) => file.name));
    } catch (error) {
      (options.logger ?? silentLogger).error({ job: base.jobId, err: error, batch: i + 2 }, 'could not post a batch of outputs');
    }
  }
  return { outcome, delivered };
}
