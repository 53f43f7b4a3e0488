// Job events → the card editor: what one job's card shows from queued to its final state. The editor throttles
// and coalesces; this only decides what the newest state of the card is, and delivers the outputs at the end.
// Preview frames are not encoded on arrival: the update carries a step that encodes the newest frame when the
// editor is about to send it, so the frames a card never shows cost nothing.
import type { OutputFile } from '../comfy/types.js';
import { silentLogger, type Logger } from '../config/logger.js';
import type { FinalState, Job, JobPosition, JobProgress, JobRetry, JobWait } from '../jobs/job.js';
import type { EncodedPreview } from '../media/preview.js';
import type { FinishOutcome, LiveView, PrepareView } from './cardEditor.js';
import { formatDuration, type CardFile, type CardOutage, type CardState, type CardView } from './cardRenderer.js';
import { deliveryKey, toCardFiles, type DeliveryFile, type DeliveryPlan } from './delivery.js';

/** The part of CardEditor a card needs (a fake in unit tests). */
export interface CardSink {
  update(view: CardView | LiveView, prepare?: PrepareView): void;
  finish(view: CardView, files?: CardFile[]): Promise<FinishOutcome>;
}

export interface JobCardOptions extends ResultDelivery {
  job: Job;
  /** The scheduler's view of where a waiting job stands, and how many wait in all. */
  position: () => JobPosition | undefined;
  queueSize: () => number;
  /** Keeps a preview frame as the job's newest; it is encoded only if `latestPreview` asks for it. */
  offerPreview: (jobId: string, bytes: Buffer) => void;
  /** The job's newest frame, encoded now if it is not yet (null before any frame); rejects when encoding failed. */
  latestPreview: (jobId: string) => Promise<EncodedPreview | null>;
  /** When the running job is expected to end (epoch ms on `now`'s clock), or null when unknown. */
  expectedEnd?: () => number | null;
  /** Who pressed Cancel, when someone did (null: the bot or the server ended it). */
  cancelledBy: () => string | null;
  /** How often a running card refreshes its elapsed time when the job reports nothing. */
  tickMs?: number;
  now?: () => number;
  onPreviewShown?: () => void;
}

export type JobCardResult = { state: Exclude<FinalState, 'succeeded'>; outcome: FinishOutcome } | ({ state: 'succeeded' } & ResultOutcome);

const DEFAULT_TICK_MS = 5000;

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
  /** The outage the scheduler says the job waits on (JobWait), if any. */
  let wait: JobWait | null = job.wait;
  /** The backend a lost run was on, until the job is dispatched again. */
  let lostFrom: string | null = null;
  /** The job was submitted again after its backend was lost (elsewhere when `moved`); cleared by its progress. */
  let resumed: { moved: boolean } | null = null;

  const outage = (): CardOutage | null => {
    if (wait?.reason === 'no-backend') return { kind: 'waiting', upToSeconds: Math.round((wait.until - wait.since) / 1000) };
    if (wait?.reason === 'backend-unreachable') return { kind: 'away' };
    return resumed ? { kind: 'resumed', moved: resumed.moved } : null;
  };
  const withOutage = (): { outage?: CardOutage } => {
    const current = outage();
    return current ? { outage: current } : {};
  };

  const elapsedSeconds = (): number => {
    const since = job.data.startedAt ?? job.data.dispatchedAt ?? now();
    return Math.max(0, (now() - since) / 1000);
  };
  const queuedState = (): Extract<CardState, { kind: 'queued' }> => {
    const global = position?.global ?? 0;
    const eta = position?.eta ?? null;
    return {
      kind: 'queued',
      position: global + 1,
      of: Math.max(options.queueSize(), global + 1),
      etaSeconds: eta === null ? null : eta / 1000,
      ...(position?.held === true ? { held: true } : {}),
      ...withOutage(),
    };
  };
  /** When the job is expected to end; worked out again at each change of state, not at each progress step. */
  let endsAt: number | null = null;
  const runningState = (): CardState => {
    const left = endsAt === null ? null : (endsAt - now()) / 1000;
    return { kind: 'running', elapsedSeconds: elapsedSeconds(), ...(left !== null && left > 0 ? { leftSeconds: left } : {}), step, nodeTitle, preview, ...withOutage() };
  };
  /** The card as the job is now (a running card's live view may be built after the job went back to the queue). */
  const currentView = (): CardView => ({ ...baseOf(options.base, job), state: job.state === 'queued' ? queuedState() : runningState() });
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
    return currentView();
  };
  /** The running card's live view, kept while what paces its edits (an image shown, the expected end) is unchanged. */
  let live: LiveView | null = null;
  const show = (): void => {
    if (job.final) return;
    if (job.state !== 'queued') {
      // Built when the edit goes out: progress changes far more often than the card is edited.
      shownQueue = null;
      const withImage = preview !== null;
      if (live?.withImage !== withImage || live.endsAt !== endsAt) live = { kind: 'running', withImage, endsAt, build: currentView };
      editor.update(live, freshFrame ? withNewestPreview : undefined);
      return;
    }
    const state = queuedState();
    const shown = `${state.position}|${state.etaSeconds == null ? '' : formatDuration(state.etaSeconds)}|${state.held === true}|${state.outage?.kind ?? ''}`;
    if (shown === shownQueue) return;
    shownQueue = shown;
    editor.update({ ...baseOf(options.base, job), state });
  };

  const onState = (): void => {
    endsAt = job.state === 'queued' ? null : (options.expectedEnd?.() ?? null);
    if (job.state === 'queued') {
      // Back in the queue after a lost backend: the old run's progress means nothing any more.
      step = null;
      nodeTitle = null;
      preview = null;
      freshFrame = false;
      resumed = null;
      position = options.position();
    } else if (job.state === 'dispatched' && lostFrom !== null) {
      resumed = { moved: job.backend !== lostFrom };
      lostFrom = null;
    }
    show();
  };
  const onWait = (next: JobWait | null): void => {
    wait = next;
    show();
  };
  const onRetry = (retry: JobRetry): void => {
    lostFrom = retry.backend;
  };
  const onPosition = (next: JobPosition): void => {
    position = next;
    show();
  };
  const onProgress = (progress: JobProgress): void => {
    resumed = null;
    step = { value: progress.value, max: progress.max };
    nodeTitle = progress.nodeTitle ?? nodeTitle;
    show();
  };
  const onNode = (node: { nodeTitle: string | null }): void => {
    // A new node's own steps start over; the bar of the previous node would be misleading.
    resumed = null;
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
  job.on('wait', onWait);
  job.on('retry', onRetry);
  const ticker = setInterval(() => {
    if (job.state === 'running' || job.state === 'dispatched') show();
  }, options.tickMs ?? DEFAULT_TICK_MS);
  ticker.unref();
  // The job's state as found (it may have been dispatched inside submit), shown as if it had just changed to it.
  onState();

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
    job.off('wait', onWait);
    job.off('retry', onRetry);
  }
  return finish(options, state, elapsedSeconds());
}

/**
 * The card's fixed part with the models chosen on the job's backend (a model option the member left to the
 * command's preference is known only once the job is dispatched).
 */
function baseOf(base: Omit<CardView, 'state'>, job: Job): Omit<CardView, 'state'> {
  const chosen = job.data.chosen;
  return chosen === null ? base : { ...base, params: { ...base.params, ...chosen } };
}

async function finish(options: JobCardOptions, state: FinalState, elapsed: number): Promise<JobCardResult> {
  const { job, editor } = options;
  const base = baseOf(options.base, job);
  if (state === 'failed') {
    const outcome = await editor.finish({ ...base, state: { kind: 'failed', message: job.error ?? 'the job failed' } });
    return { state, outcome };
  }
  if (state === 'cancelled') {
    const outcome = await editor.finish({ ...base, state: { kind: 'cancelled', byUserId: options.cancelledBy() } });
    return { state, outcome };
  }
  return { state, ...(await deliverResults({ ...options, base, gpuMs: job.gpuMs }, job.outputs ?? [], elapsed)) };
}

/** Another place for the results when the card cannot carry them (the bot lost the channel): the owner's DMs. */
export interface ResultDetour {
  /** The upload limit there (fitting is planned again for it). */
  limitBytes: number;
  /** Posts one message (the final card rides on the first); resolves with the message's id. */
  post(message: { view: CardView | null; files: CardFile[]; batch: number; of: number }): Promise<string>;
}

/** One posted message of results, for the store: `complete` with the last one. */
export interface PostedResults {
  messageId: string;
  files: string[];
  complete: boolean;
}

export interface ResultDelivery {
  editor: CardSink;
  base: Omit<CardView, 'state'>;
  /** The upload limit where the card lives. */
  limitBytes: number;
  /** The job's GPU time in ms, shown on the succeeded card when measured. */
  gpuMs?: number | null;
  /** Plans the delivery of the outputs (fitting to `limitBytes`, batching). */
  planDelivery: (outputs: readonly OutputFile[], limitBytes: number) => Promise<CardPlan>;
  /** Posts the files of the second and later batches, each as a message of its own; resolves with its id. */
  postBatch: (files: CardFile[], batch: number, of: number) => Promise<string>;
  /** The card message's id once the card landed, for the delivery record. */
  cardMessageId: () => string | null;
  /** Records each posted message at once, so a crash between two messages never posts the first one again. */
  record: (posted: PostedResults) => void;
  /** Files (by `deliveryKey`) an earlier attempt posted: none of them is posted again. */
  posted?: ReadonlySet<string>;
  /** Asked when the final card could not be delivered: where the results may go instead, or null (left pending). */
  detour?: () => ResultDetour | null;
  logger?: Logger;
}

export interface ResultOutcome {
  /** How the final card landed; 'earlier' when an earlier attempt had already posted it with its files. */
  outcome: FinishOutcome | { delivered: true; via: 'earlier' };
  /** Names of the files posted by this call. */
  delivered: string[];
  /** Every batch is posted now (this time or before); false leaves the results pending for a retry. */
  complete: boolean;
}

/** A delivery plan as the card uses it: a batch may be shown as one grid standing for several images. */
export type CardPlan = DeliveryPlan & { imageCount?: number; grid?: boolean };

const ACTIONABLE_IMAGE = /^image\/(png|jpeg|webp)$/;

/** Images on the card itself, in order: output n of a per-output action is the n-th of them. */
export function imageOutputCount(plan: CardPlan): number {
  if (plan.imageCount !== undefined) return plan.imageCount;
  return (plan.batches[0] ?? []).filter((file) => ACTIONABLE_IMAGE.test(file.mime)).length;
}

function succeededView(options: ResultDelivery, plan: CardPlan, elapsedSeconds: number | null): CardView {
  return {
    ...options.base,
    state: {
      kind: 'succeeded',
      summary: plan.summary,
      notes: plan.notes,
      elapsedSeconds,
      ...(options.gpuMs != null && { gpuSeconds: options.gpuMs / 1000 }),
      imageName: plan.embedImage,
      outputCount: imageOutputCount(plan),
      ...(plan.grid && { grid: true }),
    },
  };
}

/**
 * The succeeded card with the first batch of outputs attached, then each further batch as a message of its own,
 * each recorded as soon as it is posted. Also used for results whose delivery was interrupted (restart, outage):
 * what counts is each file, so a file an earlier attempt posted is never posted again, and a batch keeps the
 * number it was planned with ("Results 3 of 3") while carrying only the files still missing.
 */
export async function deliverResults(options: ResultDelivery, outputs: readonly OutputFile[], elapsedSeconds: number | null): Promise<ResultOutcome> {
  const log = options.logger ?? silentLogger;
  const plan = await options.planDelivery(outputs, options.limitBytes);
  const posted = options.posted ?? new Set<string>();
  const missing = (files: readonly DeliveryFile[]) => files.filter((file) => !posted.has(deliveryKey(file.name)));
  const [first = [], ...rest] = plan.batches;
  const of = Math.max(plan.batches.length, 1);
  // The card landed earlier when any file of its batch was posted: editing it again would drop those files.
  const cardLanded = first.length > 0 && missing(first).length < first.length;
  const later = [
    ...(cardLanded ? [{ files: missing(first), batch: 1 }] : []),
    ...rest.map((files, i) => ({ files: missing(files), batch: i + 2 })),
  ].filter(({ files }) => files.length > 0);
  const delivered: string[] = [];
  const record = (messageId: string, files: readonly DeliveryFile[], complete: boolean) => {
    const names = files.map((file) => file.name);
    options.record({ messageId, files: names, complete });
    delivered.push(...names);
  };

  let outcome: ResultOutcome['outcome'];
  if (cardLanded) {
    outcome = { delivered: true, via: 'earlier' };
    if (later.length === 0) record(options.cardMessageId() ?? 'unknown', [], true);
  } else {
    const view = succeededView(options, plan, elapsedSeconds);
    outcome = await options.editor.finish(view, toCardFiles(first));
    if (!outcome.delivered) return detour(options, outputs, elapsedSeconds, outcome);
    record(options.cardMessageId() ?? 'unknown', first, later.length === 0);
  }
  for (const [i, { files, batch }] of later.entries()) {
    let messageId: string;
    try {
      messageId = await options.postBatch(toCardFiles(files), batch, of);
    } catch (error) {
      log.error({ job: options.base.jobId, err: error, batch }, 'could not post a batch of outputs; left pending for a retry');
      return { outcome, delivered, complete: false };
    }
    record(messageId, files, i === later.length - 1);
  }
  return { outcome, delivered, complete: true };
}

/** The card is lost for good: the results go where the detour says (planned again for its limit), or stay pending. */
async function detour(options: ResultDelivery, outputs: readonly OutputFile[], elapsedSeconds: number | null, outcome: FinishOutcome): Promise<ResultOutcome> {
  const log = options.logger ?? silentLogger;
  const target = options.detour?.() ?? null;
  if (!target) return { outcome, delivered: [], complete: false };
  const plan = await options.planDelivery(outputs, target.limitBytes);
  const batches = plan.batches.length > 0 ? plan.batches : [[]];
  const view = succeededView(options, plan, elapsedSeconds);
  const delivered: string[] = [];
  for (const [i, files] of batches.entries()) {
    let messageId: string;
    try {
      messageId = await target.post({ view: i === 0 ? view : null, files: toCardFiles(files), batch: i + 1, of: batches.length });
    } catch (error) {
      log.error({ job: options.base.jobId, err: error, batch: i + 1 }, 'could not send the results another way either; left pending');
      return { outcome, delivered, complete: false };
    }
    const names = files.map((file) => file.name);
    options.record({ messageId, files: names, complete: i === batches.length - 1 });
    delivered.push(...names);
  }
  return { outcome, delivered, complete: true };
}
