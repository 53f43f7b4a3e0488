// `/comfy pause|resume|drain`: where the holds are kept and how a scheduler comes to obey them. One process keeps
// the operators' holds in memory, as it always did. Several processes keep them in the store, so any process may
// set them: the one the command reached writes them and wakes the leader, and every process reads them again
// before it answers or admits (a standby refuses a draining server's job as the leader would). A server's own
// hold lives in its settings either way, so it outlives a restart.
import type { Logger } from '../config/logger.js';
import type { Hold, HoldScope, Holds, JobStore, StoredHolds } from '../jobs/store.js';
import { UnknownBackendError } from '../scheduler/errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { HOLDS_WAKE } from './wakes.js';

/** What one `/comfy pause|resume|drain` acts on. */
export type HoldTarget = HoldScope | { kind: 'guild'; guildId: string };

const NO_HOLDS: Holds = { bot: null, backends: new Map(), guilds: new Map() };

type HeldScheduler = Pick<Scheduler, 'pause' | 'resume' | 'drain' | 'pauseBackend' | 'resumeBackend' | 'drainBackend' | 'holdGuild' | 'jobs' | 'loads'>;

/**
 * Brings one scheduler to a set of holds, touching only what differs from the set it applied last: holds are
 * applied again on every wake and read, and a drain must start once, not once per read.
 */
export class HoldsApplier {
  private applied: Holds = NO_HOLDS;

  constructor(
    private readonly scheduler: HeldScheduler,
    private readonly logger: Logger,
  ) {}

  get current(): Holds {
    return this.applied;
  }

  apply(next: Holds): void {
    const { scheduler, logger } = this;
    const was = this.applied;
    if (next.bot !== was.bot) {
      if (next.bot === null) scheduler.resume();
      else if (next.bot === 'paused') scheduler.pause();
      else {
        // Said only where jobs were running: a standby's scheduler, always empty, would say it of the leader's queue.
        const busy = scheduler.jobs().length > 0;
        void scheduler.drain().then(() => busy && logger.info('queue drained'));
      }
    }
    for (const name of new Set([...was.backends.keys(), ...next.backends.keys()])) {
      const hold = next.backends.get(name);
      if (hold === was.backends.get(name)) continue;
      try {
        if (hold === undefined) scheduler.resumeBackend(name);
        else if (hold === 'paused') scheduler.pauseBackend(name);
        else {
          const busy = (scheduler.loads().get(name) ?? 0) > 0;
          void scheduler.drainBackend(name).then(() => busy && logger.info({ backend: name }, 'backend drained'));
        }
      } catch (error) {
        // A hold on a backend another process's configuration has and this one's lacks.
        if (!(error instanceof UnknownBackendError)) throw error;
        logger.warn({ backend: name, hold: hold ?? 'open' }, 'a hold names a backend this process does not have; ignored');
      }
    }
    for (const guildId of new Set([...was.guilds.keys(), ...next.guilds.keys()])) {
      const hold = next.guilds.get(guildId) ?? null;
      if (hold !== (was.guilds.get(guildId) ?? null)) scheduler.holdGuild(guildId, hold);
    }
    this.applied = next;
  }
}

/** `holds` with `target` set to `hold` (null lifts it). */
function withHold(holds: Holds, target: HoldTarget, hold: Hold | null): Holds {
  const set = <K>(map: ReadonlyMap<K, Hold>, key: K): Map<K, Hold> => {
    const out = new Map(map);
    if (hold === null) out.delete(key);
    else out.set(key, hold);
    return out;
  };
  if (target.kind === 'bot') return { ...holds, bot: hold };
  if (target.kind === 'backend') return { ...holds, backends: set(holds.backends, target.name) };
  return { ...holds, guilds: set(holds.guilds, target.guildId) };
}

/** Where the commands set holds and the handlers read them. */
export interface HoldControl {
  /** The holds in force, applied to this process's scheduler (read from the store first when it is shared). */
  sync(): Holds;
  /** Sets or (null) lifts one hold; in force on this process at once, on the leader when woken. */
  set(target: HoldTarget, hold: Hold | null): void;
}

type HoldStore = Pick<JobStore, 'holds' | 'setGuildSettings'>;

/**
 * A reader of the store's holds that reports each unreadable server once per problem (their queue is open), not on
 * every read: holds are read before every admission.
 */
function holdsReader(store: HoldStore, logger: Logger): () => StoredHolds {
  const reported = new Set<string>();
  return () => {
    const holds = store.holds();
    for (const { guildId, error } of holds.unreadable) {
      const key = `${guildId}\n${error.message}`;
      if (reported.has(key)) continue;
      reported.add(key);
      logger.error({ err: error, guild: guildId }, "could not read a server's settings; its queue is open");
    }
    return holds;
  };
}

/** One process: the operators' holds in memory (gone with a restart, as before); the servers' from their settings. */
export function localHolds(store: HoldStore, scheduler: HeldScheduler, logger: Logger): HoldControl {
  const applier = new HoldsApplier(scheduler, logger);
  applier.apply({ ...NO_HOLDS, guilds: holdsReader(store, logger)().guilds });
  return {
    sync: () => applier.current,
    set(target, hold) {
      if (target.kind === 'guild') store.setGuildSettings(target.guildId, { queue: hold ?? 'open' });
      applier.apply(withHold(applier.current, target, hold));
    },
  };
}

/** Several processes: every hold in the store; a change wakes the leader, which syncs (and does on taking the lease). */
export function sharedHolds(store: HoldStore & Pick<JobStore, 'setHold' | 'wake'>, scheduler: HeldScheduler, logger: Logger): HoldControl {
  const applier = new HoldsApplier(scheduler, logger);
  const read = holdsReader(store, logger);
  const sync = (): Holds => {
    const { bot, backends, guilds } = read();
    applier.apply({ bot, backends, guilds });
    return applier.current;
  };
  sync();
  return {
    sync,
    set(target, hold) {
      if (target.kind === 'guild') store.setGuildSettings(target.guildId, { queue: hold ?? 'open' });
      else store.setHold(target, hold);
      store.wake(HOLDS_WAKE);
      sync();
    },
  };
}
