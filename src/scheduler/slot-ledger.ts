// How many backend slots each backend and each user hold right now. Dispatch asks these questions for every
// waiting job on every pass, so they are kept as counts, moved when a job takes or gives back a slot,
// rather than counted by walking every active job.

export class SlotLedger {
  private readonly perBackend = new Map<string, number>();
  private readonly perUser = new Map<string, number>();

  /** A job of `userId` now occupies a slot on `backend`. */
  take(backend: string, userId: string): void {
    this.perBackend.set(backend, this.ofBackend(backend) + 1);
    this.perUser.set(userId, this.ofUser(userId) + 1);
  }

  /** Gives back a slot taken with `take`; returns how many slots `backend` still holds. */
  give(backend: string, userId: string): number {
    const onBackend = this.ofBackend(backend);
    const ofUser = this.ofUser(userId);
    // Giving back a slot never taken means the scheduler's bookkeeping is wrong: fail loudly, not drift.
    if (onBackend === 0 || ofUser === 0) {
      throw new Error(`slot ledger: no slot on backend ${backend} held by user ${userId} to give back`);
    }
    setOrDrop(this.perBackend, backend, onBackend - 1);
    setOrDrop(this.perUser, userId, ofUser - 1);
    return onBackend - 1;
  }

  ofBackend(backend: string): number {
    return this.perBackend.get(backend) ?? 0;
  }

  ofUser(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }
}

/** Zero counts are dropped so the map does not keep one entry per user ever seen. */
function setOrDrop(map: Map<string, number>, key: string, count: number): void {
  if (count === 0) map.delete(key);
  else map.set(key, count);
}
