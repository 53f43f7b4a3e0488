// The waiting room. Jobs are taken user by user, least recently served user first, so one person's ten jobs
// cannot hold back another person's first. Priority users are served before everyone else; jobs put back
// after a lost backend are served before all of them.

export interface QueueItem {
  id: string;
  userId: string;
  priority: boolean;
}

export class FairQueue<T extends QueueItem> {
  /** Put back after a failover: first in line, in order. */
  private readonly urgent: T[] = [];
  private readonly byUser = new Map<string, T[]>();
  /**
   * Serve sequence of each user's last dispatch. Kept after a user's list empties so that a user who submits
   * one job at a time does not count as new (and jump ahead) each time; one number per user ever seen.
   */
  private readonly lastServed = new Map<string, number>();
  /** When each waiting user joined the queue: the tie-break between users never served. */
  private readonly joined = new Map<string, number>();
  private seq = 0;

  get size(): number {
    let n = this.urgent.length;
    for (const list of this.byUser.values()) n += list.length;
    return n;
  }

  push(item: T): void {
    const list = this.byUser.get(item.userId);
    if (list) list.push(item);
    else {
      this.byUser.set(item.userId, [item]);
      this.joined.set(item.userId, ++this.seq);
    }
  }

  /** Ahead of everyone (a job whose backend was lost keeps its turn). */
  pushFront(item: T): void {
    this.urgent.push(item);
  }

  remove(id: string): T | undefined {
    const i = this.urgent.findIndex((x) => x.id === id);
    if (i >= 0) return this.urgent.splice(i, 1)[0];
    for (const [user, list] of this.byUser) {
      const j = list.findIndex((x) => x.id === id);
      if (j < 0) continue;
      const [item] = list.splice(j, 1);
      if (list.length === 0) this.dropUser(user);
      return item;
    }
    return undefined;
  }

  /** Removes and returns the next job that `eligible` accepts (e.g. a backend can run it, the user has room). */
  take(eligible: (item: T) => boolean = () => true): T | undefined {
    const u = this.urgent.findIndex(eligible);
    if (u >= 0) return this.served(this.urgent.splice(u, 1)[0]!);
    let best: { user: string; index: number; item: T } | undefined;
    for (const [user, list] of this.byUser) {
      const index = list.findIndex(eligible);
      if (index < 0) continue;
      const item = list[index]!;
      if (!best || this.before(item, user, best.item, best.user)) best = { user, index, item };
    }
    if (!best) return undefined;
    const list = this.byUser.get(best.user)!;
    list.splice(best.index, 1);
    if (list.length === 0) this.dropUser(best.user);
    return this.served(best.item);
  }

  /** The predicted dispatch order of every waiting job, if every job could run anywhere. */
  order(): T[] {
    const copy = new FairQueue<T>();
    copy.seq = this.seq;
    for (const [k, v] of this.lastServed) copy.lastServed.set(k, v);
    for (const [k, v] of this.joined) copy.joined.set(k, v);
    copy.urgent.push(...this.urgent);
    for (const [k, v] of this.byUser) copy.byUser.set(k, [...v]);
    const out: T[] = [];
    for (let item = copy.take(); item; item = copy.take()) out.push(item);
    return out;
  }

  private before(a: T, userA: string, b: T, userB: string): boolean {
    if (a.priority !== b.priority) return a.priority;
    const servedA = this.lastServed.get(userA) ?? -1;
    const servedB = this.lastServed.get(userB) ?? -1;
    if (servedA !== servedB) return servedA < servedB;
    return (this.joined.get(userA) ?? 0) < (this.joined.get(userB) ?? 0);
  }

  private served(item: T): T {
    this.lastServed.set(item.userId, ++this.seq);
    return item;
  }

  private dropUser(user: string): void {
    this.byUser.delete(user);
    this.joined.delete(user);
  }
}
