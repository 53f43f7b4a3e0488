// How many backend slots each backend, each user and each server hold right now. Dispatch asks these questions
// for every waiting job on every pass, so they are kept as counts, moved when a job takes or gives back a slot,
// rather than counted by walking every active job.

/** Whose slot it is; `guildId` null for a direct message, all of which count as one server. */
export interface SlotHolder {
  userId: string;
  guildId: string | null;
}

export class SlotLedger {
  private readonly perBackend = new Map<string, number>();
  private readonly perUser = new Map<string, number>();
  private readonly perGuild = new Map<string | null, number>();

  /** A job of `holder` now occupies a slot on `backend`. */
  take(backend: string, holder: SlotHolder): void {
    this.perBackend.set(backend, this.ofBackend(backend) + 1);
    this.perUser.set(holder.userId, this.ofUser(holder.userId) + 1);
    this.perGuild.set(holder.guildId, this.ofGuild(holder.guildId) + 1);
  }

  /** Gives back a slot taken with `take`; returns how many slots `backend` still holds. */
  give(backend: string, holder: SlotHolder): number {
    const onBackend = this.ofBackend(backend);
    const ofUser = this.ofUser(holder.userId);
    const ofGuild = this.ofGuild(holder.guildId);
    // Giving back a slot never taken means the scheduler's bookkeeping is wrong: fail loudly, not drift.
    if (onBackend === 0 || ofUser === 0 || ofGuild === 0) {
      const guild = holder.guildId === null ? 'direct messages' : `guild ${holder.guildId}`;
      throw new Error(`slot ledger: no slot on backend ${backend} held by user ${holder.userId} (${guild}) to give back`);
    }
    setOrDrop(this.perBackend, backend, onBackend - 1);
    setOrDrop(this.perUser, holder.userId, ofUser - 1);
    setOrDrop(this.perGuild, holder.guildId, ofGuild - 1);
    return onBackend - 1;
  }

  ofBackend(backend: string): number {
    return this.perBackend.get(backend) ?? 0;
  }

  ofUser(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  ofGuild(guildId: string | null): number {
    return this.perGuild.get(guildId) ?? 0;
  }
}

/** Zero counts are dropped so the maps do not keep one entry per user or server ever seen. */
function setOrDrop<K>(map: Map<K, number>, key: K, count: number): void {
  if (count === 0) map.delete(key);
  else map.set(key, count);
}
