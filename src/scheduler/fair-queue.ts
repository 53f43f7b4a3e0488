// The waiting room. Jobs are taken user by user, least recently served user first, so one person's ten jobs
// cannot hold back another person's first. Priority users are served before everyone else; jobs put back
// after a lost backend are served before all of them.
import { MinHeap } from './min-heap.js';

export interface QueueItem {
  id: string;
  userId: string;
  priority: boolean;
}

/** Where a user stands for their next turn; `turnBefore` is the serving order. */
interface Turn {
  /** The priority of the user's next job. */
  priority: boolean;
  /** Serve sequence of the user's last dispatch, -1 if never served. */
  served: number;
  /** When the user joined the queue. */
  joined: number;
}

function turnBefore(a: Turn, b: Turn): boolean {
  if (a.priority !== b.priority) return a.priority;
  if (a.served !== b.served) return a.served < b.served;
  return a.joined < b.joined;
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
      if (!best || turnBefore(this.turnOf(user, item), this.turnOf(best.user, best.item))) best = { user, index, item };
    }
    if (!best) return undefined;
    const list = this.byUser.get(best.user)!;
    list.splice(best.index, 1);
    if (list.length === 0) this.dropUser(best.user);
    return this.served(best.item);
  }

  /**
   * The predicted dispatch order of every waiting job, if every job could run anywhere: what repeated `take()`
   * would return, worked out without changing the queue. Each turn comes off a heap of users, so this is
   * n log(users), not n × users: it runs on every pump.
   */
  order(): T[] {
    const out = [...this.urgent];
    let seq = this.seq;
    const served = new Map(this.lastServed);
    for (const item of this.urgent) served.set(item.userId, ++seq);
    const turns = new MinHeap<{ turn: Turn; list: readonly T[]; next: number }>((a, b) => turnBefore(a.turn, b.turn));
    for (const [user, list] of this.byUser) {
      turns.push({ list, next: 0, turn: { priority: list[0]!.priority, served: served.get(user) ?? -1, joined: this.joined.get(user) ?? 0 } });
    }
    for (let t = turns.pop(); t; t = turns.pop()) {
      out.push(t.list[t.next]!);
      t.next += 1;
      const item = t.list[t.next];
      if (item === undefined) continue;
      t.turn = { priority: item.priority, served: ++seq, joined: t.turn.joined };
      turns.push(t);
    }
    return out;
  }

  private turnOf(user: string, next: T): Turn {
    return { priority: next.priority, served: this.lastServed.get(user) ?? -1, joined: this.joined.get(user) ?? 0 };
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
