// Decides when and where each job runs: admits it (limits), queues it fairly, dispatches it to the least
// loaded healthy backend that can run it, follows the run, puts it back after a lost backend, and cancels.
// Stopping a submitted run (cancel, time limit, grace, abandon) is RunStopper's (run-stopper.ts); what a job says
// while its backend is down, and how long a queued one waits for a backend, is OutageWatch's (outage-watch.ts);
// which backends' inventories can run a job is Placements' (placements.ts).
import { dispatchId } from './dispatch-key.js';
import type { LimitOverride, Limits } from '../config/schema.js';
import { silentLogger, type Logger } from '../config/logger.js';
import type { JobAdopter, RestoredJobs } from '../jobs/adopter.js';
import { Job, JobControl, isBound, type FinalState, type JobMode, type JobPosition, type JobSpec } from '../jobs/job.js';
import { BackendUnavailableError, type Backend, type BackendRun, type RunEvent, type RunOutcome } from './backend.js';
import { systemClock, type Clock } from './clock.js';
import { CancelError, UnavailableError, UnknownBackendError } from './errors.js';
import { DispatchHolds, type GuildHold } from './dispatch-holds.js';
import { RunTimeAverages, queueEtas, workUnits } from './eta.js';
import { gpuTime } from './gpu-time.js';
import { ModeQueue, type ModeItem } from './mode-queue.js';
import { FairShare, shareWeight, type PastCharge } from './fair-share.js';
import { SubmissionLimiter, resolveLimits, type GuildLoad, type Load } from './limits.js';
import { boundFor } from './model-choices.js';
import { OutageWatch } from './outage-watch.js';
import { Placements, type Placement } from './placements.js';
import { RunStopper, type StopEnding, type Stoppable } from './run-stopper.js';
import { SlotLedger } from './slot-ledger.js';
import type { SubmissionUsage } from './usage.js';

export interface SchedulerOptions {
  backends: Backend[];
  limits: Limits;
  limitOverrides?: LimitOverride[];
  /** Role ids whose members get share weight PRIORITY_ROLE_WEIGHT (kept from when they were served first). */
  priorityRoles?: string[];
  /** Role id → share weight (> 0): a member's is the largest of their roles', else 1. */
  roleWeights?: Record<string, number>;
  /**
   * `gpu-time` (the default): fair share by decayed GPU usage ÷ share weight. `turns`: round-robin by server then
   * user whatever the jobs cost, the policy before GPU time was measured.
   */
  fairBy?: 'gpu-time' | 'turns';
  /** Half-life of the GPU usage fair share goes by (default 1 h). */
  shareHalfLifeMs?: number;
  /** A relax job waits at least this × its owner's relax GPU time today before it may start (relax.ts; default 0.5). */
  relaxSlowdown?: number;
  /** GPU charges of jobs that finished before a restart (`JobStore.gpuChargesSince`), oldest first. */
  gpuHistory?: Iterable<PastCharge>;
  /** Times a job may be submitted before a lost backend fails it. */
  maxTries: number;
  /** A run longer than this is interrupted and failed. */
  timeoutSeconds: number;
  /** A job whose backend has been down this long says so (default 3 s). */
  outageNoticeMs?: number;
  /** A queued job that every backend able to run it is down for waits this long, then fails (default 10 minutes). */
  waitForBackendMs?: number;
  /** Where admissions are counted for the interval and the daily quota; in memory when absent. */
  usage?: SubmissionUsage;
  clock?: Clock;
  logger?: Logger;
}

export type { GuildHold } from './dispatch-holds.js';

/** What check() needs of a submission: its spec without the images, the workflow once options are bound. */
export type AdmissionQuery = Omit<JobSpec, 'workflow' | 'images'> & { workflow?: JobSpec['workflow'] };

export interface CancelActor {
  userId: string;
  isModerator: boolean;
}

interface Entry extends ModeItem, Stoppable {
  job: Job;
  control: JobControl;
  limits: Limits;
  placement: Placement;
  /** The backend whose slot the job holds (counted in `slots`); set and cleared by hold() and release(). */
  backend: Backend | null;
  run: BackendRun | null;
  unsubscribe: (() => void) | null;
  lastPosition: string | null;
  /** GPU ms provisionally added to the owner's usage at dispatch, taken back when the run ends. */
  charged: number;
  /** The job's work (steps × pixels × batch, eta.ts), read once: ETAs need it on every pump. */
  units: number;
  /** When a run in flight at a restart was adopted (gpu-time.ts measures it from there); null for the others. */
  adoptedAt: number | null;
}

/** The expected cost of a job of a command that has never finished. */
const UNKNOWN_COST_MS = 1_000;
const HOUR_MS = 3_600_000;
const DEFAULT_OUTAGE_NOTICE_MS = 3_000;
const DEFAULT_WAIT_FOR_BACKEND_MS = 600_000;
const DEFAULT_RELAX_SLOWDOWN = 0.5;

export class Scheduler implements JobAdopter {
  private readonly backends: readonly Backend[];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly share: FairShare;
  private readonly queue: ModeQueue<Entry>;
  private readonly active = new Map<string, Entry>();
  private readonly slots = new SlotLedger();
  private readonly placements: Placements;
  private readonly limiter: SubmissionLimiter;
  private readonly averages = new RunTimeAverages();
  private readonly stopper: RunStopper<Entry>;
  private readonly outages: OutageWatch<Entry>;
  private readonly holds = new DispatchHolds();
  private pumping = false;
  private pumpAgain = false;
  private readonly detach: (() => void)[] = [];

  constructor(private readonly options: SchedulerOptions) {
    if (options.backends.length === 0) throw new Error('the scheduler needs at least one backend');
    this.backends = options.backends;
    this.placements = new Placements(options.backends);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.limiter = new SubmissionLimiter(this.clock, options.usage);
    this.share = new FairShare(this.clock, options.shareHalfLifeMs ?? HOUR_MS);
    this.share.seed(options.gpuHistory ?? []);
    this.queue = new ModeQueue<Entry>(options.fairBy === 'turns' ? undefined : this.share, this.clock, () => this.pump());
    this.stopper = new RunStopper<Entry>({
      clock: this.clock,
      logger: this.log,
      timeoutSeconds: options.timeoutSeconds,
      ended: (entry, ending) => {
        this.release(entry);
        this.endStopped(entry, ending);
        this.pump();
      },
    });
    this.outages = new OutageWatch<Entry>({
      clock: this.clock,
      backends: this.backends,
      noticeAfterMs: options.outageNoticeMs ?? DEFAULT_OUTAGE_NOTICE_MS,
      waitForBackendMs: options.waitForBackendMs ?? DEFAULT_WAIT_FOR_BACKEND_MS,
      mightRun: (entry, backend) => backend.inventory === undefined || entry.placement.canRunOn.has(backend),
      changed: () => this.pump(),
      expired: (entry, message) => {
        this.log.warn({ job: entry.id }, 'job failed: no backend came back in time');
        this.failQueued(entry, message);
        this.pump();
      },
    });
    for (const b of this.backends) {
      const onHealth = (healthy: boolean) => {
        this.log.info({ backend: b.name, healthy }, healthy ? 'backend up' : 'backend down');
        this.outages.healthChanged(b, healthy);
        this.pump();
      };
      const onInventory = () => {
        this.placements.forget();
        this.refreshPlacements();
        this.pump();
      };
      b.on('health', onHealth);
      b.on('inventory', onInventory);
      this.detach.push(() => b.off('health', onHealth), () => b.off('inventory', onInventory));
    }
  }

  /**
   * Admits a job or throws LimitError / UnavailableError; the returned job is queued (and maybe already dispatched).
   * With every backend down it is still admitted: it waits for one (OutageWatch), saying so.
   */
  submit(spec: JobSpec): Job {
    if (spec.id !== undefined && this.active.has(spec.id)) throw new Error(`job ${spec.id} is already in the scheduler`);
    const { limits, user, guild } = this.admission(spec);
    const mode = this.limiter.admit(spec.owner.userId, limits, user, guild, spec.modeRequest);
    const { modeRequest: _request, ...admitted } = spec;
    const entry = this.newEntry(new Job({ ...admitted, mode }, this.clock.now()), limits, this.placements.of(spec));
    this.queue.push(entry);
    this.log.debug({ job: entry.id, user: entry.userId, command: spec.command }, 'job queued');
    this.pump();
    return entry.job;
  }

  /**
   * Throws what submit() would throw for this submission now (LimitError / UnavailableError), admitting and
   * recording nothing: callers run it before paying for expensive work (downloading and decoding attachments),
   * then submit() checks again. Without a workflow, whether a backend can run it is not checked yet. Returns the
   * mode the job would run in now.
   */
  check(query: AdmissionQuery): JobMode {
    const { limits, user, guild } = this.admission(query);
    return this.limiter.check(query.owner.userId, limits, user, guild, query.modeRequest);
  }

  /**
   * Every admission rule of submit() but the limiter's, in one place so that check() can never disagree with it:
   * taking jobs at all (the bot, the owner's server), a backend able to run the workflow; and what the limiter
   * needs to judge the owner's limits. Nothing is recorded here. Whether a backend is up is not a rule: an outage
   * is waited out; only a workflow no backend's last known inventory has (and none unknown) is refused.
   */
  private admission(query: AdmissionQuery): { limits: Limits; user: Load; guild: GuildLoad } {
    if (!this.holds.accepting) throw new UnavailableError('draining', 'the bot is not taking new jobs right now; try again later');
    const { userId, guildId } = query.owner;
    if (this.holds.guildHold(guildId) === 'draining') {
      throw new UnavailableError('draining', "this server's admins have stopped taking new jobs for now; try again later");
    }
    const why = query.workflow ? this.placements.whyNowhere(this.placements.of({ workflow: query.workflow, choices: query.choices })) : null;
    if (why) throw new UnavailableError('unsupported', `no backend can run this: ${why}`);
    const limits = this.limitsFor(query);
    const user = this.loadOf((e) => e.userId === userId);
    const guild = { guildId, ...this.loadOf((e) => e.guildId === guildId) };
    return { limits, user, guild };
  }

  /** The limits that apply to a member's submission (config, command file, the server's and the config's overrides). */
  limitsFor(query: Pick<AdmissionQuery, 'owner' | 'command' | 'commandLimits' | 'limitOverrides'>): Limits {
    const overrides = [...(this.options.limitOverrides ?? []), ...(query.limitOverrides ?? [])];
    return resolveLimits(this.options.limits, overrides, { owner: query.owner, command: query.command, commandLimits: query.commandLimits });
  }

  /** A submission refused after it cost work (see SubmissionLimiter.noteRefused): its owner's interval starts. */
  noteRefused(userId: string): void {
    this.limiter.noteRefused(userId);
  }

  /**
   * Cancels a job for its owner or a moderator and resolves with its final state: `cancelled`, or
   * `succeeded` / `failed` when it ended first. Throws CancelError otherwise.
   */
  async cancel(jobId: string, actor: CancelActor): Promise<FinalState> {
    const entry = this.active.get(jobId);
    if (!entry) throw new CancelError('not-found', jobId);
    if (entry.userId !== actor.userId && !actor.isModerator) throw new CancelError('not-yours', jobId);
    if (entry.job.state === 'queued') {
      this.queue.remove(jobId);
      this.finish(entry, () => entry.control.cancel());
      this.pump();
    } else {
      this.stopper.request(entry, 'cancel');
    }
    return entry.job.done;
  }

  get(jobId: string): Job | undefined {
    return this.active.get(jobId)?.job;
  }

  /** Jobs not yet finished, oldest first. */
  jobs(): Job[] {
    return [...this.active.values()].map((e) => e.job).sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * When a dispatched or running job is expected to end (epoch ms, this scheduler's clock): its start plus the
   * command's average run time for its work; null when waiting, unknown or ended.
   */
  expectedEnd(jobId: string): number | null {
    const entry = this.active.get(jobId);
    return entry && entry.job.state !== 'queued' ? this.endOf(entry) : null;
  }

  /** Where a waiting job stands now; undefined when it is not waiting. */
  position(jobId: string): JobPosition | undefined {
    return this.positions().get(jobId);
  }

  /** Backend name → jobs it holds now. */
  loads(): Map<string, number> {
    return new Map(this.backends.map((b) => [b.name, this.slots.ofBackend(b.name)]));
  }

  pauseBackend(name: string): void {
    this.holds.pauseBackend(this.backend(name).name);
    // Fewer lanes: the waiting jobs' ETAs change.
    this.pump();
  }

  resumeBackend(name: string): void {
    this.holds.resumeBackend(this.backend(name).name);
    this.pump();
  }

  /** Gives the backend no more work and resolves when its jobs have ended; it stays paused until resumed. */
  drainBackend(name: string): Promise<void> {
    const b = this.backend(name);
    const drained = this.holds.drainBackend(b.name, this.slots.ofBackend(b.name) === 0);
    this.pump();
    return drained;
  }

  /** Stops dispatching; submissions are still taken and queued (a pause after a drain takes them again). */
  pause(): void {
    this.holds.pause();
  }

  resume(): void {
    this.holds.resume();
    this.pump();
  }

  /** JobAdopter: no dispatch until releaseDispatch, whatever the operators' pause says (which it leaves alone). */
  holdDispatch(): void {
    this.holds.holdDispatch();
  }

  releaseDispatch(): void {
    this.holds.releaseDispatch();
    this.pump();
  }

  /** Refuses new jobs and resolves when every accepted job has ended (they run: a drain after a pause lifts it). */
  drain(): Promise<void> {
    const drained = this.holds.drain(this.active.size === 0);
    this.pump();
    return drained;
  }

  /** Holds one guild's queued jobs (new ones are still accepted) or, draining, refuses its new jobs; null lifts it. */
  holdGuild(guildId: string, hold: GuildHold | null): void {
    this.holds.holdGuild(guildId, hold);
    this.pump();
  }

  guildHold(guildId: string): GuildHold | null {
    return this.holds.guildHold(guildId);
  }

  /** Start-up recovery's hand-over (JobAdopter): in-flight jobs are adopted on their backend with `follow`. */
  restore(state: RestoredJobs): Job[] {
    const out: Job[] = [];
    const unfollowable: JobSpec[] = [];
    for (const f of state.inFlight) {
      // A run is submitted with its models chosen; a spec still choosing cannot be followed, so it runs again.
      if (!isBound(f.spec)) {
        unfollowable.push(f.spec);
        continue;
      }
      const backend = this.backends.find((b) => b.name === f.backend);
      const job = new Job(f.spec, this.clock.now(), {
        state: 'dispatched',
        backend: f.backend,
        promptId: f.promptId,
        attempt: f.attempt,
        dispatchedAt: f.dispatchedAt,
        startedAt: f.startedAt,
      });
      const entry = this.newEntry(job, this.limitsOf(f.spec), this.placements.of(f.spec));
      out.push(job);
      if (!backend) {
        this.retry(entry, `backend ${f.backend} is no longer configured`);
        continue;
      }
      this.hold(entry, backend);
      entry.adoptedAt = this.clock.now();
      // Charged as at dispatch, so the owner of a run in flight is behind a newcomer after a restart too.
      entry.charged = entry.cost * (backend.costWeight ?? 1);
      this.share.charge(entry, entry.charged);
      this.stopper.armTimeLimit(entry, f.dispatchedAt);
      this.attach(entry, backend, backend.follow(f.spec, f.promptId));
    }
    for (const spec of [...unfollowable, ...state.queued]) {
      const entry = this.newEntry(new Job(spec, this.clock.now()), this.limitsOf(spec), this.placements.of(spec));
      const waitingSince = spec.id === undefined ? undefined : state.waitingSince?.get(spec.id);
      if (waitingSince !== undefined) this.outages.carry(entry, waitingSince);
      this.queue.push(entry);
      out.push(entry.job);
    }
    this.pump();
    return out;
  }

  /** Detaches from the backends and clears timers; jobs in flight are left to the backends. */
  close(): void {
    this.holds.close();
    this.queue.close();
    for (const d of this.detach.splice(0)) d();
    for (const e of this.active.values()) this.stopper.clear(e);
    this.outages.stop();
  }

  // --- dispatch ---------------------------------------------------------------------------------------

  private pump(): void {
    // Job listeners run synchronously and may call back in (cancel, submit): finish this pass first.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.share.atOneInstant(() => {
          this.dispatchAll();
          this.publishPositions();
        });
        this.outages.refresh(this.active.values());
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private dispatchAll(): void {
    while (this.holds.dispatching) {
      // With no free slot anywhere nothing can be dispatched: do not walk the queue at all.
      const open = this.openBackends();
      if (open.length === 0) return;
      // A held server, or a user or server at its running limit, is skipped, so it holds back no one else.
      const entry = this.queue.take((e) => !this.heldByGuild(e) && this.hasRunningRoom(e) && this.pickBackend(e, open) !== undefined);
      if (!entry) return;
      this.dispatch(entry, this.pickBackend(entry, open)!);
    }
  }

  private heldByGuild(e: Entry): boolean {
    return this.holds.guildHold(e.job.owner.guildId) === 'paused';
  }

  private hasRunningRoom(e: Entry): boolean {
    const guildCap = e.limits.perGuildRunning;
    return this.slots.ofUser(e.userId) < e.limits.perUserRunning && (guildCap === undefined || this.slots.ofGuild(e.guildId) < guildCap);
  }

  /** Backends that may take a job now: healthy, not paused or draining, inventory read, a slot free. */
  private openBackends(): Backend[] {
    return this.backends.filter(
      (b) => b.healthy && b.inventory !== undefined && this.holds.backendOpen(b.name) && this.slots.ofBackend(b.name) < b.capacity,
    );
  }

  /**
   * The least loaded of the open backends that can run the job (higher weight between equals), one with the
   * job's preferred models first: a free backend that has only the fallback still beats waiting for one that has.
   */
  private pickBackend(e: Entry, open: readonly Backend[]): Backend | undefined {
    let best: Backend | undefined;
    for (const b of open) if (e.placement.canRunOn.has(b) && (best === undefined || this.placesBetter(e, b, best))) best = b;
    return best;
  }

  /** Whether `b` suits the job better than `other`: a preferred model, then the lighter load, then the higher weight. */
  private placesBetter(e: Entry, b: Backend, other: Backend): boolean {
    const preferred = e.placement.preferredOn;
    if (preferred.has(b) !== preferred.has(other)) return preferred.has(b);
    const load = (x: Backend): number => this.slots.ofBackend(x.name) / x.capacity;
    return load(b) !== load(other) ? load(b) < load(other) : b.weight > other.weight;
  }

  private dispatch(entry: Entry, backend: Backend): void {
    const promptId = dispatchId(entry.id, entry.job.attempt + 1);
    // pickBackend only offers backends with an inventory that resolves every choice.
    const { spec, chosen } = boundFor(entry.job.spec, backend.inventory!);
    this.hold(entry, backend);
    // Counted now, so a user whose jobs are running is already behind a newcomer; settled when the run ends.
    entry.charged = entry.cost * (backend.costWeight ?? 1);
    this.share.charge(entry, entry.charged);
    // Emitted before the submit call so a durable store has the prompt id before ComfyUI does.
    entry.control.dispatch(backend.name, promptId, chosen);
    this.stopper.armTimeLimit(entry, this.clock.now());
    this.log.info({ job: entry.id, backend: backend.name, promptId, attempt: entry.job.attempt }, 'job dispatched');
    backend.run(spec, promptId).then(
      (run) => this.attach(entry, backend, run),
      (error: unknown) => this.submitFailed(entry, backend, error),
    );
  }

  private attach(entry: Entry, backend: Backend, run: BackendRun): void {
    if (entry.job.final || entry.backend !== backend) {
      // The job was ended without this run (its submit outlasted the stop's grace period): nobody will
      // follow the prompt, so it must not keep the backend busy either.
      this.log.warn({ job: entry.id, backend: backend.name, promptId: run.promptId }, 'prompt of an ended job; cancelling it');
      backend.cancel(run.promptId).catch((error: unknown) => this.log.warn({ job: entry.id, err: error }, 'could not cancel an abandoned prompt'));
      return;
    }
    entry.run = run;
    entry.control.promptAssigned(run.promptId);
    entry.unsubscribe = run.subscribe((event) => {
      if (entry.run === run && !entry.job.final) this.onRunEvent(entry, event);
    });
    void run.finished.then((outcome) => {
      if (entry.run === run) this.settle(entry, outcome);
    });
    this.stopper.runAttached(entry, run);
  }

  private onRunEvent(entry: Entry, event: RunEvent): void {
    const { job, control } = entry;
    if (event.type === 'preview') {
      job.emit('preview', { mime: event.mime, bytes: event.bytes });
      return;
    }
    control.start();
    if (event.type === 'node') job.emit('node', { node: event.node, nodeTitle: job.nodeTitle(event.node) });
    if (event.type === 'progress') {
      job.emit('progress', { value: event.value, max: event.max, node: event.node, nodeTitle: job.nodeTitle(event.node) });
    }
  }

  private settle(entry: Entry, outcome: RunOutcome): void {
    const backend = entry.backend!;
    const { job, control } = entry;
    const startedAt = job.data.startedAt ?? job.data.dispatchedAt ?? this.clock.now();
    this.release(entry);
    const stopped = this.stopper.endingOf(entry);
    // A run that never started (dequeued) or was lost (it runs again elsewhere) is charged nothing.
    const gpuMs = outcome.type === 'lost' ? null : gpuTime({ startedAt: job.data.startedAt, adoptedAt: entry.adoptedAt }, outcome, this.clock.now(), backend);
    if (gpuMs !== null) {
      control.chargeGpu(gpuMs);
      this.share.charge(entry, gpuMs);
      this.limiter.chargeGpu(entry.userId, gpuMs, job.mode);
    }
    if (outcome.type === 'done') {
      this.averages.record(job.command, backend.name, this.clock.now() - startedAt, entry.units);
      this.finish(entry, () => control.succeed(outcome.outputs));
    } else if (stopped) {
      this.endStopped(entry, stopped);
    } else if (outcome.type === 'interrupted') {
      // Someone else interrupted it (an admin on the ComfyUI side): the owner sees it cancelled.
      this.finish(entry, () => control.cancel('interrupted on the server'));
    } else if (outcome.type === 'failed') {
      this.finish(entry, () => control.fail(outcome.message));
    } else {
      this.retry(entry, `backend ${backend.name} was lost: ${outcome.message}`);
    }
    this.pump();
  }

  private submitFailed(entry: Entry, backend: Backend, error: unknown): void {
    if (entry.backend !== backend || entry.job.final) return;
    this.release(entry);
    const message = error instanceof Error ? error.message : String(error);
    const stopped = this.stopper.endingOf(entry);
    if (stopped) this.endStopped(entry, stopped);
    else if (error instanceof BackendUnavailableError) this.retry(entry, message);
    else this.finish(entry, () => entry.control.fail(message));
    this.pump();
  }

  /** Back to the head of the queue, or failed when out of tries or when no backend can run it any more. */
  private retry(entry: Entry, reason: string): void {
    const tries = this.options.maxTries;
    if (entry.job.attempt >= tries) {
      this.finish(entry, () => entry.control.fail(`gave up after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${reason}`));
      return;
    }
    this.log.warn({ job: entry.id, reason, attempt: entry.job.attempt }, 'job requeued');
    if (entry.job.state !== 'queued') entry.control.requeue(reason);
    this.queue.pushFront(entry);
    this.failIfNowhere(entry);
  }

  /** A job whose run was stopped ends as the stop says. */
  private endStopped(entry: Entry, ending: StopEnding): void {
    this.finish(entry, () => (ending.type === 'failed' ? entry.control.fail(ending.message) : entry.control.cancel()));
  }

  /** The job takes a slot on the backend. */
  private hold(entry: Entry, backend: Backend): void {
    entry.backend = backend;
    this.slots.take(backend.name, entry);
  }

  /** Frees the job's backend slot and detaches from its run. */
  private release(entry: Entry): void {
    const backend = entry.backend;
    entry.unsubscribe?.();
    this.stopper.clear(entry);
    entry.unsubscribe = null;
    entry.run = null;
    entry.backend = null;
    this.share.charge(entry, -entry.charged);
    entry.charged = 0;
    if (backend && this.slots.give(backend.name, entry) === 0) this.holds.backendIdle(backend.name);
  }

  private finish(entry: Entry, end: () => boolean): void {
    if (!end()) return;
    this.active.delete(entry.id);
    if (this.active.size === 0) this.holds.allIdle();
  }

  private failIfNowhere(entry: Entry): void {
    const why = this.placements.whyNowhere(entry.placement);
    if (!why) return;
    this.failQueued(entry, `no backend can run this: ${why}`);
  }

  private failQueued(entry: Entry, message: string): void {
    this.queue.remove(entry.id);
    this.finish(entry, () => entry.control.fail(message));
  }

  /** An inventory changed: what each job needs (a new model name may now be known) and where it can run. */
  private refreshPlacements(): void {
    for (const e of this.active.values()) e.placement = this.placements.of(e.job.spec);
    for (const e of [...this.active.values()]) if (e.job.state === 'queued') this.failIfNowhere(e);
  }

  // --- bookkeeping ------------------------------------------------------------------------------------

  private newEntry(job: Job, limits: Limits, placement: Placement): Entry {
    const priorityRoles = this.options.priorityRoles ?? [];
    const units = workUnits(job.spec.params);
    const entry: Entry = {
      id: job.id,
      userId: job.owner.userId,
      guildId: job.owner.guildId,
      weight: shareWeight(job.owner.roles, this.options.roleWeights ?? {}, priorityRoles),
      cost: this.expectedCost(job.command, units),
      charged: 0,
      units,
      adoptedAt: null,
      mode: job.mode,
      // Read when the job is queued (also when restored): later relax jobs of a heavy relax user wait longer.
      notBefore: job.mode === 'relax' ? this.clock.now() + this.limiter.relaxDelay(job.owner.userId, this.options.relaxSlowdown ?? DEFAULT_RELAX_SLOWDOWN) : 0,
      job,
      control: new JobControl(job, () => this.clock.now()),
      limits,
      placement,
      backend: null,
      run: null,
      unsubscribe: null,
      timer: null,
      stop: null,
      lastPosition: null,
    };
    this.active.set(job.id, entry);
    return entry;
  }

  /** Expected GPU ms of a job: the command's run-time average scaled by the job's work (see eta.ts). */
  private expectedCost(command: string, units: number): number {
    return this.averages.estimate(command, undefined, units) ?? UNKNOWN_COST_MS;
  }

  private limitsOf(spec: JobSpec): Limits {
    return resolveLimits(this.options.limits, this.options.limitOverrides ?? [], {
      owner: spec.owner,
      command: spec.command,
      commandLimits: spec.commandLimits,
    });
  }

  private backend(name: string): Backend {
    const b = this.backends.find((x) => x.name === name);
    if (!b) throw new UnknownBackendError(name);
    return b;
  }

  /** Live jobs of one user or one server (`of` picks them). */
  private loadOf(of: (e: Entry) => boolean): Load {
    let running = 0;
    let queued = 0;
    let nextFreeAt: number | undefined;
    for (const e of this.active.values()) {
      if (!of(e)) continue;
      if (e.job.state === 'queued') queued += 1;
      else {
        running += 1;
        const end = this.endOf(e);
        if (end !== null && (nextFreeAt === undefined || end < nextFreeAt)) nextFreeAt = end;
      }
    }
    return nextFreeAt === undefined ? { running, queued } : { running, queued, nextFreeAt };
  }

  private endOf(e: Entry): number | null {
    const est = this.averages.estimate(e.job.command, e.job.backend ?? undefined, e.units);
    const since = e.job.data.startedAt ?? e.job.data.dispatchedAt;
    return est === null || since === null ? null : since + est;
  }

  /** Where every waiting job stands now (job id → position), worked out once for all of them. */
  positions(): Map<string, JobPosition> {
    const now = this.clock.now();
    // A paused server's jobs wait behind everyone else's (and count in no one's ETA) until its admins resume it.
    const predicted = this.queue.order();
    // Nothing waits (every job found a slot): no lanes or running jobs' ends to work out, on every pass.
    if (predicted.length === 0) return new Map();
    const runnable = predicted.filter((e) => !this.heldByGuild(e));
    const order = runnable.length === predicted.length ? predicted : [...runnable, ...predicted.filter((e) => this.heldByGuild(e))];
    // Lanes are the slots of the backends that take new work; a job still running on a paused, draining or lost
    // backend frees none of them, so it is left out rather than packed into the others' lanes.
    const lanes = new Set(this.backends.filter((b) => b.healthy && this.holds.backendOpen(b.name)));
    const slots = [...lanes].reduce((n, b) => n + b.capacity, 0);
    const running = [...this.active.values()]
      .filter((e) => e.job.state !== 'queued' && e.backend !== null && lanes.has(e.backend))
      .map((e) => {
        const end = this.endOf(e);
        return end === null ? null : Math.max(0, end - now);
      });
    const etas = queueEtas({ running, waiting: runnable.map((e) => this.averages.estimate(e.job.command, undefined, e.units)), slots });
    const perUser = new Map<string, number>();
    const out = new Map<string, JobPosition>();
    order.forEach((e, global) => {
      const user = perUser.get(e.userId) ?? 0;
      perUser.set(e.userId, user + 1);
      const held = global >= runnable.length;
      out.set(e.id, { global, user, eta: held ? null : (etas[global] ?? null), held });
    });
    return out;
  }

  private publishPositions(): void {
    for (const [id, position] of this.positions()) {
      const entry = this.active.get(id);
      if (!entry) continue;
      const key = `${position.global}/${position.user}/${position.eta === null ? '-' : Math.round(position.eta / 1000)}/${position.held}`;
      if (key === entry.lastPosition) continue;
      entry.lastPosition = key;
      entry.job.emit('position', position);
    }
  }
}
