// The throttled, coalescing editor of one job card. Progress arrives far faster than Discord accepts edits, and
// discord.js queues every edit it is given, so the editor keeps only the latest state: one edit in flight, one
// pending slot that newer states overwrite. Edits are spaced per message and paced per channel so a normal run
// meets no 429; the final state is never dropped (it waits out rate limits, retries, and moves to a new message
// when the old one cannot be edited any more) and goes ahead of other cards' progress in the channel. An update may
// carry a `prepare` step (encoding the newest preview frame) that runs only once its edit is about to be sent, so
// states superseded while waiting cost nothing.
import type { Logger } from '../config/logger.js';
import { silentLogger } from '../config/logger.js';
import { renderCard, type CardFile, type CardPayload, type CardView } from './cardRenderer.js';
import type { ChannelPacer, EditBucket, EditTurn, EditUrgency } from './channelPacer.js';
import { classifyCardError, type CardFailure } from './discordErrors.js';

/** Where the card lives. Implemented with discord.js in interactionTransport.ts. */
export interface CardTransport {
  /** Edits the card where it currently is. */
  edit(payload: CardPayload): Promise<void>;
  /** Posts a new card message in the channel; later `edit`s go to that message. */
  post(payload: CardPayload): Promise<void>;
  /** Epoch ms when `edit` stops working (interaction token), or null when it does not expire. */
  readonly expiresAt: number | null;
  /** False when the card cannot move to a channel message (an ephemeral reply, no channel). */
  readonly canPost: boolean;
  /**
   * True while the next `edit` answers the interaction (its callback carries the card): it is due within 3 s and
   * draws from no channel bucket, so it waits for no pacer turn.
   */
  readonly answering?: boolean;
}

export interface CardEditorTiming {
  /** Minimum time between two edits of this card when the edit uploads a preview. */
  imageSpacingMs: number;
  /** ... when it is text only. */
  textSpacingMs: number;
  /** ... between two queue-position updates (nothing to watch yet, so save requests). */
  queuedSpacingMs: number;
  /** Stop using an expiring route this long before it expires. */
  expiryMarginMs: number;
  /** Attempts at delivering the final state when Discord fails for reasons other than rate limits. */
  finalAttempts: number;
  /** Wait before retrying a failed final edit (multiplied by the attempt number). */
  finalRetryDelayMs: number;
  /** Consecutive moves to a new message tolerated before giving up (a channel that swallows every card). */
  maxConsecutivePosts: number;
}

const DEFAULT_TIMING: CardEditorTiming = {
  imageSpacingMs: 1200,
  // A progress bar needs no faster cadence, and every edit is a Discord request: about 2 ms of the bot's CPU, a
  // third of a job's control path at 1 s (bench "overhead").
  textSpacingMs: 2000,
  queuedSpacingMs: 5000,
  expiryMarginMs: 2 * 60_000,
  finalAttempts: 3,
  finalRetryDelayMs: 2000,
  maxConsecutivePosts: 3,
};

export type FinishOutcome = { delivered: true; via: 'edit' | 'post' } | { delivered: false; reason: string };

export type UnreachableReason = 'forbidden' | 'token-expired' | 'failed';
export interface Unreachable {
  reason: UnreachableReason;
  message: string;
  /** The newest state the card could not show; the owner should hear about it another way (DM, follow-up). */
  view: CardView;
}

export type MoveReason = 'token-expiry' | 'token-invalid' | 'message-gone';

export type CardEditorEvent =
  | { type: 'sent'; via: 'edit' | 'post'; final: boolean }
  | { type: 'coalesced' }
  | { type: 'deduplicated' }
  | { type: 'rate-limited'; retryAfterMs: number; final: boolean }
  | { type: 'dropped'; reason: string }
  | { type: 'moved'; reason: MoveReason }
  | { type: 'unreachable'; reason: UnreachableReason };

export interface CardEditorStats {
  edits: number;
  posts: number;
  coalesced: number;
  deduplicated: number;
  rateLimited: number;
  dropped: number;
  moves: Record<MoveReason, number>;
}

export interface CardEditorOptions {
  transport: CardTransport;
  /** Shared by every card in the same channel. */
  pacer: ChannelPacer;
  /**
   * Which of the channel's buckets `transport.edit` currently draws from: 'interaction' while it edits through an
   * interaction token, 'channel' for a bot-token message (the default, and always for `post`).
   */
  editBucket?: () => EditBucket;
  timing?: Partial<CardEditorTiming>;
  /** Called once when the card can no longer be shown; `finish` then resolves undelivered. */
  onUnreachable?: (info: Unreachable) => void;
  /** For metrics. */
  onEvent?: (event: CardEditorEvent) => void;
  render?: (view: CardView) => CardPayload;
  logger?: Logger;
}

/** Completes a view at send time (e.g. with the newest preview, encoded only now); rejects to send `view` as is. */
export type PrepareView = () => Promise<CardView>;

/**
 * A card state built when its edit is sent rather than each time it changes: a running job reports progress about
 * ten times a second, and its card is edited every one or two seconds.
 */
export interface LiveView {
  readonly kind: 'queued' | 'running';
  /** The state shows a preview image (its edits are spaced as uploads). */
  readonly withImage: boolean;
  /** When the job is expected to end (epoch ms), if known: see CardEditor.dueAt. */
  readonly endsAt?: number | null;
  build(): CardView;
}

type Slot = { live: LiveView; final: false; prepare: PrepareView | null } | { view: CardView; final: true; files: CardFile[] };

/** A view known already, as a live one. */
function fixed(view: CardView): LiveView {
  const state = view.state;
  const kind = state.kind === 'queued' ? 'queued' : 'running';
  return { kind, withImage: state.kind === 'running' && state.preview !== null && state.preview !== undefined, build: () => view };
}

function urgencyOf(slot: Slot): EditUrgency {
  if (slot.final) return 'final';
  return slot.live.kind === 'queued' ? 'queued' : 'progress';
}

export class CardEditor {
  readonly stats: CardEditorStats = {
    edits: 0,
    posts: 0,
    coalesced: 0,
    deduplicated: 0,
    rateLimited: 0,
    dropped: 0,
    moves: { 'token-expiry': 0, 'token-invalid': 0, 'message-gone': 0 },
  };

  private readonly transport: CardTransport;
  private readonly pacer: ChannelPacer;
  private readonly timing: CardEditorTiming;
  private readonly render: (view: CardView) => CardPayload;
  private readonly options: CardEditorOptions;
  private readonly logger: Logger;

  private phase: 'open' | 'finishing' | 'closed' = 'open';
  private closedReason = '';
  private pending: Slot | null = null;
  private inFlight = false;
  /** The place in the channel's queue the pending slot is waiting for. */
  private turn: EditTurn | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private lastSentQueued = false;
  private lastSentKey: string | null = null;
  private lastSentFiles: readonly Buffer[] = [];
  private blockedUntil = 0;
  private moveReason: Exclude<MoveReason, 'token-expiry'> | null = null;
  private consecutivePosts = 0;
  private finalFailures = 0;
  private finished: Promise<FinishOutcome> | null = null;
  private settle: ((outcome: FinishOutcome) => void) | null = null;

  constructor(options: CardEditorOptions) {
    this.options = options;
    this.transport = options.transport;
    this.pacer = options.pacer;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.render = options.render ?? renderCard;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Shows `view` as soon as the pacing allows; a newer update before then replaces it. Ignored once finishing.
   * `prepare`, when given, is called right before the edit is sent and its view is sent instead.
   */
  update(view: CardView | LiveView, prepare?: PrepareView): void {
    if (this.phase !== 'open') return;
    const pending = this.pending;
    if (pending && !pending.final && pending.live === view && pending.prepare === (prepare ?? null)) {
      // The live view already waiting builds the newest state when it is sent: nothing to replace or reschedule.
      this.record({ type: 'coalesced' });
      return;
    }
    this.replacePending({ live: 'build' in view ? view : fixed(view), final: false, prepare: prepare ?? null });
  }

  /**
   * Shows the final state (with `files`, e.g. the delivered outputs). Never dropped: resolves once it landed, or
   * when it definitively could not (then `onUnreachable` has been told). Later calls return the first outcome.
   */
  finish(view: CardView, files: CardFile[] = []): Promise<FinishOutcome> {
    if (this.finished) return this.finished;
    if (this.phase === 'closed') {
      this.finished = Promise.resolve({ delivered: false, reason: this.closedReason });
      return this.finished;
    }
    this.replacePending({ view, final: true, files });
    this.phase = 'finishing';
    this.finished = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.schedule();
    return this.finished;
  }

  /** Shutdown: drops what is pending (an edit in flight still completes); `finish` resolves undelivered. */
  stop(reason = 'the bot is shutting down'): void {
    if (this.phase !== 'closed') this.close({ delivered: false, reason });
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  private replacePending(slot: Slot): void {
    if (this.pending) this.record({ type: 'coalesced' });
    this.pending = slot;
    // Already waiting in the channel's queue for an older state: the newer one may deserve an earlier place.
    this.turn?.promote(urgencyOf(slot));
    this.schedule();
  }

  private record(event: CardEditorEvent): void {
    switch (event.type) {
      case 'sent':
        if (event.via === 'edit') this.stats.edits += 1;
        else this.stats.posts += 1;
        break;
      case 'coalesced':
        this.stats.coalesced += 1;
        break;
      case 'deduplicated':
        this.stats.deduplicated += 1;
        break;
      case 'rate-limited':
        this.stats.rateLimited += 1;
        break;
      case 'dropped':
        this.stats.dropped += 1;
        break;
      case 'moved':
        this.stats.moves[event.reason] += 1;
        break;
      case 'unreachable':
        break;
    }
    this.options.onEvent?.(event);
  }

  private spacingBefore(slot: Slot): number {
    // The final state waits for no spacing: progress edits are at least textSpacingMs apart, so one more edit right
    // after the last one stays far inside the interaction token's bucket (5 per 2 s), and the channel bucket is the
    // pacer's job. It still waits for an edit in flight (one at a time per message).
    if (slot.final) return 0;
    const { kind, withImage } = slot.live;
    if (kind === 'queued' && this.lastSentQueued) return this.timing.queuedSpacingMs;
    return kind === 'running' && (withImage || slot.prepare) ? this.timing.imageSpacingMs : this.timing.textSpacingMs;
  }

  /**
   * When the pending state may go out: its spacing after the last edit, and not before a rate limit ends. A progress
   * edit that would land less than one spacing before the job's expected end waits for the end instead: the result
   * would replace it at once, and it would spend a request of the channel's shared budget to show nothing for long.
   * If the job runs late, that edit goes out one spacing after the expected end.
   */
  private dueAt(slot: Slot): number {
    const spacing = this.spacingBefore(slot);
    const at = Math.max(this.lastSentAt + spacing, this.blockedUntil);
    // The edit that answers the interaction is due within 3 s whatever the job does.
    const endsAt = slot.final || slot.live.kind !== 'running' || this.transport.answering === true ? null : (slot.live.endsAt ?? null);
    return endsAt !== null && at > endsAt - spacing && at < endsAt + spacing ? endsAt + spacing : at;
  }

  private schedule(): void {
    if (this.inFlight || !this.pending || this.phase === 'closed') return;
    const at = this.dueAt(this.pending);
    // A newer state may be due sooner than the one the timer was set for (a final state needs no spacing).
    if (this.timer) {
      if (at >= this.timerAt) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, Math.max(0, at - Date.now()));
  }

  /** Same text, same components (`key`, keyOf) and the very same preview buffers as what Discord already shows. */
  private isDuplicate(payload: CardPayload, key = keyOf(payload)): boolean {
    const files = (payload.files ?? []).map((file) => file.attachment);
    return (
      this.lastSentKey === key &&
      files.length === this.lastSentFiles.length &&
      files.every((bytes, i) => bytes === this.lastSentFiles[i])
    );
  }

  private async run(): Promise<void> {
    this.inFlight = true;
    try {
      const first = this.pending;
      if (!first || this.phase === 'closed') return;
      if (!first.final && !first.prepare && this.isDuplicate(this.render(first.live.build()))) {
        this.pending = null;
        this.record({ type: 'deduplicated' });
        return;
      }
      const route = this.route();
      if (route !== 'edit' || this.transport.answering !== true) {
        this.turn = this.pacer.request({
          urgency: urgencyOf(first),
          bucket: route === 'edit' ? this.editBucket() : 'channel',
        });
        try {
          await this.turn.granted;
        } finally {
          this.turn = null;
        }
      }
      // The pending slot may have been overwritten while waiting for the channel: send whatever is newest.
      const slot = this.pending as Slot | null;
      if (!slot || this.closed) return;
      this.pending = null;
      const view = await this.prepared(slot);
      if (this.closed) return;
      await this.send(slot, view);
    } finally {
      this.inFlight = false;
      this.schedule();
    }
  }

  private editBucket(): EditBucket {
    return this.options.editBucket?.() ?? 'channel';
  }

  private async prepared(slot: Slot): Promise<CardView> {
    if (slot.final) return slot.view;
    if (!slot.prepare) return slot.live.build();
    try {
      return await slot.prepare();
    } catch (error) {
      const view = slot.live.build();
      this.logger.warn({ jobId: view.jobId, err: error }, 'card update could not be completed; sending it without');
      return view;
    }
  }

  private route(): 'edit' | 'post' | 'unreachable' {
    const expiring = this.transport.expiresAt !== null && Date.now() >= this.transport.expiresAt - this.timing.expiryMarginMs;
    if (!expiring && this.moveReason === null) return 'edit';
    return this.transport.canPost ? 'post' : 'unreachable';
  }

  private async send(slot: Slot, view: CardView): Promise<void> {
    const payload = this.render(view);
    if (slot.final && slot.files.length > 0) payload.files = [...(payload.files ?? []), ...slot.files];
    const key = keyOf(payload);
    if (!slot.final && this.isDuplicate(payload, key)) {
      // Prepared to nothing new (no newer frame after all): the turn is spent, the request is not.
      this.record({ type: 'deduplicated' });
      return;
    }
    const route = this.route();
    if (route === 'unreachable') {
      const why = this.moveReason === 'message-gone' ? 'the card message is gone' : 'the interaction token expired';
      this.giveUp('token-expired', `${why} and this card cannot move to a channel message`, view);
      return;
    }
    if (route === 'post') {
      if (this.consecutivePosts >= this.timing.maxConsecutivePosts) {
        this.giveUp('failed', `gave up after ${this.consecutivePosts} new messages in a row could not be kept`, view);
        return;
      }
      this.record({ type: 'moved', reason: this.moveReason ?? 'token-expiry' });
      this.consecutivePosts += 1;
    }

    this.lastSentAt = Date.now();
    this.lastSentQueued = view.state.kind === 'queued';
    try {
      if (route === 'post') await this.transport.post(payload);
      else await this.transport.edit(payload);
    } catch (error) {
      this.onFailure(slot, view, classifyCardError(error), route);
      return;
    }
    if (route === 'post') this.moveReason = null;
    else this.consecutivePosts = 0;
    this.lastSentKey = key;
    this.lastSentFiles = (payload.files ?? []).map((file) => file.attachment);
    this.record({ type: 'sent', via: route, final: slot.final });
    if (slot.final) this.close({ delivered: true, via: route });
  }

  /** Puts a slot back unless something newer is already waiting (a newer progress state, never over a final). */
  private retry(slot: Slot): void {
    if (!this.pending || slot.final) this.pending = slot;
  }

  private onFailure(slot: Slot, view: CardView, failure: CardFailure, route: 'edit' | 'post'): void {
    const log = { state: view.state.kind, jobId: view.jobId, route, failure };
    switch (failure.kind) {
      case 'rate-limited':
        this.record({ type: 'rate-limited', retryAfterMs: failure.retryAfterMs, final: slot.final });
        this.logger.warn(log, 'card edit rate-limited; backing off');
        this.blockedUntil = Date.now() + failure.retryAfterMs;
        // A 429 on a token edit despite the card's spacing points at the channel-wide write limit (20028), so the
        // channel's interaction bucket waits too.
        this.pacer.pause(failure.retryAfterMs, route === 'edit' ? this.editBucket() : 'channel');
        if (slot.final) this.retry(slot);
        else this.record({ type: 'dropped', reason: 'rate-limited' });
        return;
      case 'token-invalid':
      case 'message-gone':
        if (route === 'post') break;
        this.logger.info(log, 'card cannot be edited any more; continuing on a new message');
        this.moveReason = failure.kind;
        this.retry(slot);
        return;
      case 'forbidden':
        this.logger.warn(log, 'bot may not write the card; telling the owner another way');
        this.giveUp('forbidden', failure.message, view);
        return;
      case 'other':
        break;
    }
    const message = failure.kind === 'other' ? failure.message : `${failure.kind} right after posting a new message`;
    if (!slot.final) {
      this.logger.warn(log, 'card edit failed; skipping this frame');
      this.record({ type: 'dropped', reason: message });
      return;
    }
    this.finalFailures += 1;
    if (this.finalFailures >= this.timing.finalAttempts) {
      this.logger.error(log, 'final card edit failed for good');
      this.giveUp('failed', `the final card edit failed ${this.finalFailures} times; last: ${message}`, view);
      return;
    }
    this.logger.warn(log, 'final card edit failed; retrying');
    this.blockedUntil = Date.now() + this.timing.finalRetryDelayMs * this.finalFailures;
    this.retry(slot);
  }

  private giveUp(reason: UnreachableReason, message: string, view: CardView): void {
    this.record({ type: 'unreachable', reason });
    this.close({ delivered: false, reason: message });
    this.options.onUnreachable?.({ reason, message, view });
  }

  private close(outcome: FinishOutcome): void {
    this.phase = 'closed';
    this.closedReason = outcome.delivered ? 'the card was already finished' : outcome.reason;
    this.pending = null;
    this.turn?.cancel();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.settle?.(outcome);
    this.settle = null;
  }
}

function keyOf(payload: CardPayload): string {
  return JSON.stringify([payload.content, payload.embeds, payload.components, payload.attachments]);
}
