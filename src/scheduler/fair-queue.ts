// The waiting room, fair by GPU time. Jobs are taken server by server, then user by user within the server:
// the server with the least decayed GPU usage first, then its user with the least (usage + the job's expected
// cost) ÷ share weight, so one server's members cannot hold back another server's, one person's ten jobs cannot
// hold back another person's first, and a heavy user's 60-second jobs count for what they cost. Usage is the
// scheduler's (`UsageLookup`, see fair-share.ts); it grows when a job is dispatched, so a user whose jobs are
// running is already behind a newcomer. Equal scores (no usage known yet, as at start) fall back to round-robin:
// the server, then the user, served longest ago first, then the one waiting longest. Direct messages count as one
// server. Jobs put back after a lost backend are served before all of them.
import { MinHeap } from './min-heap.js';

export interface QueueItem {
  id: string;
  userId: string;
  /** The server the job came from; null for a direct message. */
  guildId: string | null;
  /** The owner's share weight (from roles; 1 by default): twice the weight, twice the GPU time at equal demand. */
  weight: number;
  /** Expected GPU ms of the job (0 when unknown), counted in its owner's score and, once dispatched, usage. */
  cost: number;
}

/** Decayed GPU usage (ms) now, of a server and of a user. */
export interface UsageLookup {
  server(guildId: string | null): number;
  user(userId: string): number;
}

const NO_USAGE: UsageLookup = { server: () => 0, user: () => 0 };

/** Where a server, or a user within one, stands for its next turn among equal scores. */
interface Standing {
  /** Serve sequence of its last dispatch, -1 if never served. */
  served: number;
  /** When it joined the queue: the tie-break between those never served (the longest waiting first). */
  joined: number;
}

function standsBefore(a: Standing, b: Standing): boolean {
  if (a.served !== b.served) return a.served < b.served;
  return a.joined < b.joined;
}

/** A server's or user's next turn in `order()`'s heaps: the lower score first, then standing. */
interface Cursor {
  score: number;
  standing: Standing;
}

function cursorBefore(a: Cursor, b: Cursor): boolean {
  return a.score !== b.score ? a.score < b.score : standsBefore(a.standing, b.standing);
}

/** A user's score for a job of `cost`: (usage + cost) ÷ weight. */
function userScore(usage: number, cost: number, weight: number): number {
  return (usage + cost) / weight;
}

/** One user's waiting jobs in one server. */
interface Line<T> {
  items: T[];
  joined: number;
}

/** One server: its waiting users, and the turns it remembers while nothing of it waits. */
interface Group<T> {
  guildId: string | null;
  lines: Map<string, Line<T>>;
  /** Serve sequence of the server's last dispatch, -1 if never served. */
  served: number;
  /** When the server last joined the queue (had nothing waiting, then a job). */
  joined: number;
  /**
   * Serve sequence of each user's last dispatch here. Kept after a user's line empties so that a user who submits
   * one job at a time does not count as new (and jump ahead) each time; one number per user ever seen here.
   */
  userServed: Map<string, number>;
}

/** The turn of one user's next job: the server's score and standing, then the user's within it. */
interface Turn<T> {
  groupScore: number;
  group: Group<T>;
  score: number;
  user: Standing;
}

function turnBefore<T>(a: Turn<T>, b: Turn<T>): boolean {
  if (a.group !== b.group) return a.groupScore !== b.groupScore ? a.groupScore < b.groupScore : standsBefore(a.group, b.group);
  return a.score !== b.score ? a.score < b.score : standsBefore(a.user, b.user);
}

export class FairQueue<T extends QueueItem> {
  /** Put back after a failover: first in line, in order. */
  private readonly urgent: T[] = [];
  /** Every server ever seen (its turns are remembered as users' are); one small record per server. */
  private readonly groups = new Map<string | null, Group<T>>();
  /** The servers with jobs waiting. */
  private readonly waiting = new Map<string | null, Group<T>>();
  private count = 0;
  private seq = 0;

  /**
   * Without usage (round-robin by turns) every job scores as 1 and nothing accrues, so only the weight and the
   * turns order users (priority users first, as before fair share), never cost. `order()` accrues `chargeOf`.
   */
  private readonly costOf: (item: T) => number;
  private readonly chargeOf: (item: T) => number;

  constructor(private readonly usage: UsageLookup = NO_USAGE) {
    this.costOf = usage === NO_USAGE ? () => 1 : (item) => item.cost;
    this.chargeOf = usage === NO_USAGE ? () => 0 : (item) => item.cost;
  }

  get size(): number {
    return this.urgent.length + this.count;
  }

  push(item: T): void {
    const group = this.groupOf(item.guildId);
    if (group.lines.size === 0) {
      group.joined = ++this.seq;
      this.waiting.set(group.guildId, group);
    }
    const line = group.lines.get(item.userId);
    if (line) line.items.push(item);
    else group.lines.set(item.userId, { items: [item], joined: ++this.seq });
    this.count += 1;
  }

  /** Ahead of everyone (a job whose backend was lost keeps its turn). */
  pushFront(item: T): void {
    this.urgent.push(item);
  }

  remove(id: string): T | undefined {
    const i = this.urgent.findIndex((x) => x.id === id);
    if (i >= 0) return this.urgent.splice(i, 1)[0];
    for (const group of this.waiting.values()) {
      for (const [user, line] of group.lines) {
        const j = line.items.findIndex((x) => x.id === id);
        if (j >= 0) return this.cut(group, user, line, j);
      }
    }
    return undefined;
  }

  /** Removes and returns the next job that `eligible` accepts (e.g. a backend can run it, the user has room). */
  take(eligible: (item: T) => boolean = () => true): T | undefined {
    const u = this.urgent.findIndex(eligible);
    if (u >= 0) return this.served(this.urgent.splice(u, 1)[0]!);
    let best: { turn: Turn<T>; user: string; line: Line<T>; index: number } | undefined;
    for (const group of this.waiting.values()) {
      const groupScore = this.usage.server(group.guildId);
      // A server scored worse than the best found cannot win: skip its users.
      if (best && best.turn.group !== group && groupScore > best.turn.groupScore) continue;
      for (const [user, line] of group.lines) {
        const index = line.items.findIndex(eligible);
        if (index < 0) continue;
        const turn = {
          groupScore,
          group,
          score: userScore(this.usage.user(user), this.costOf(line.items[index]!), line.items[index]!.weight),
          user: { served: group.userServed.get(user) ?? -1, joined: line.joined },
        };
        if (!best || turnBefore(turn, best.turn)) best = { turn, user, line, index };
      }
    }
    if (!best) return undefined;
    return this.served(this.cut(best.turn.group, best.user, best.line, best.index));
  }

  /**
   * The predicted dispatch order of every waiting job, if every job could run anywhere: what repeated `take()`
   * would return, worked out without changing the queue, each dispatch adding the job's expected cost to its
   * server's and user's usage as dispatch does. Each turn comes off a heap of servers and that server's heap of
   * users, so this is n log(servers + users), not n × users: it runs on every pump. (A user waiting in two servers
   * is scored per server here; take() adds both servers' dispatches to one usage, so the two can differ then.)
   */
  order(): T[] {
    const out = [...this.urgent];
    let seq = this.seq;
    // Serving the jobs put back first moves their servers and users to the back and adds to their usage.
    const bumped = new Map<string | null, { served: number; cost: number; users: Map<string, { served: number; cost: number }> }>();
    for (const item of this.urgent) {
      const b = bumped.get(item.guildId) ?? { served: -1, cost: 0, users: new Map<string, { served: number; cost: number }>() };
      b.served = ++seq;
      b.cost += this.chargeOf(item);
      const u = b.users.get(item.userId);
      b.users.set(item.userId, { served: seq, cost: (u?.cost ?? 0) + this.chargeOf(item) });
      bumped.set(item.guildId, b);
    }
    type LineCursor = Cursor & { items: readonly T[]; next: number; used: number };
    const groups = new MinHeap<Cursor & { lines: MinHeap<LineCursor>; used: number }>(cursorBefore);
    for (const group of this.waiting.values()) {
      const b = bumped.get(group.guildId);
      const lines = new MinHeap<LineCursor>(cursorBefore);
      for (const [user, line] of group.lines) {
        const bu = b?.users.get(user);
        const served = bu?.served ?? group.userServed.get(user) ?? -1;
        const used = this.usage.user(user) + (bu?.cost ?? 0);
        lines.push({ items: line.items, next: 0, used, score: userScore(used, this.costOf(line.items[0]!), line.items[0]!.weight), standing: { served, joined: line.joined } });
      }
      const used = this.usage.server(group.guildId) + (b?.cost ?? 0);
      groups.push({ lines, used, score: used, standing: { served: b?.served ?? group.served, joined: group.joined } });
    }
    // The server and the user whose turn it is stay on top of their heaps while their keys move on.
    for (let g = groups.peek(); g; g = groups.peek()) {
      const line = g.lines.peek()!;
      const taken = line.items[line.next]!;
      out.push(taken);
      seq += 1;
      line.next += 1;
      line.used += this.chargeOf(taken);
      const item = line.items[line.next];
      if (item === undefined) g.lines.pop();
      else {
        line.score = userScore(line.used, this.costOf(item), item.weight);
        line.standing.served = seq;
        g.lines.topChanged();
      }
      g.used += this.chargeOf(taken);
      if (g.lines.peek() === undefined) {
        groups.pop();
        continue;
      }
      g.score = g.used;
      g.standing.served = seq;
      groups.topChanged();
    }
    return out;
  }

  private groupOf(guildId: string | null): Group<T> {
    let group = this.groups.get(guildId);
    if (!group) {
      group = { guildId, lines: new Map(), served: -1, joined: 0, userServed: new Map() };
      this.groups.set(guildId, group);
    }
    return group;
  }

  /** Takes item `index` out of a user's line, dropping the line (and the server from `waiting`) when it empties. */
  private cut(group: Group<T>, user: string, line: Line<T>, index: number): T {
    const [item] = line.items.splice(index, 1);
    this.count -= 1;
    if (line.items.length === 0) {
      group.lines.delete(user);
      if (group.lines.size === 0) this.waiting.delete(group.guildId);
    }
    return item!;
  }

  private served(item: T): T {
    const group = this.groupOf(item.guildId);
    group.served = ++this.seq;
    group.userServed.set(item.userId, this.seq);
    return item;
  }
}
