// The waiting room. Jobs are taken server by server, the server served longest ago first, then within that
// server user by user, least recently served user first: one server's members cannot hold back another server's,
// and one person's ten jobs cannot hold back another person's first. Direct messages count as one server.
// Priority users are served before everyone else (fairly by server, then by user); jobs put back after a lost
// backend are served before all of them.
import { MinHeap } from './min-heap.js';

export interface QueueItem {
  id: string;
  userId: string;
  /** The server the job came from; null for a direct message. */
  guildId: string | null;
  priority: boolean;
}

/** Where a server, or a user within one, stands for its next turn; `standsBefore` is the serving order. */
interface Standing {
  /** Serve sequence of its last dispatch, -1 if never served. */
  served: number;
  /** When it joined the queue: the tie-break between those never served. */
  joined: number;
}

function standsBefore(a: Standing, b: Standing): boolean {
  if (a.served !== b.served) return a.served < b.served;
  return a.joined < b.joined;
}

/** A server's or user's next turn in `order()`'s heaps: priority first, then standing. */
interface Cursor {
  priority: boolean;
  standing: Standing;
}

function cursorBefore(a: Cursor, b: Cursor): boolean {
  return a.priority !== b.priority ? a.priority : standsBefore(a.standing, b.standing);
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

/** The turn of one user's next job: priority first, then the server's standing, then the user's within it. */
interface Turn<T> {
  priority: boolean;
  group: Group<T>;
  user: Standing;
}

function turnBefore<T>(a: Turn<T>, b: Turn<T>): boolean {
  if (a.priority !== b.priority) return a.priority;
  if (a.group !== b.group) return standsBefore(a.group, b.group);
  return standsBefore(a.user, b.user);
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
      for (const [user, line] of group.lines) {
        const index = line.items.findIndex(eligible);
        if (index < 0) continue;
        const turn = { priority: line.items[index]!.priority, group, user: { served: group.userServed.get(user) ?? -1, joined: line.joined } };
        if (!best || turnBefore(turn, best.turn)) best = { turn, user, line, index };
      }
    }
    if (!best) return undefined;
    return this.served(this.cut(best.turn.group, best.user, best.line, best.index));
  }

  /**
   * The predicted dispatch order of every waiting job, if every job could run anywhere: what repeated `take()`
   * would return, worked out without changing the queue. Each turn comes off a heap of servers and that server's
   * heap of users, so this is n log(servers + users), not n × users: it runs on every pump.
   */
  order(): T[] {
    const out = [...this.urgent];
    let seq = this.seq;
    // Serving the jobs put back first moves their servers and users to the back.
    const bumped = new Map<string | null, { served: number; users: Map<string, number> }>();
    for (const item of this.urgent) {
      const b = bumped.get(item.guildId) ?? { served: -1, users: new Map<string, number>() };
      b.served = ++seq;
      b.users.set(item.userId, seq);
      bumped.set(item.guildId, b);
    }
    type LineCursor = Cursor & { items: readonly T[]; next: number };
    const groups = new MinHeap<Cursor & { lines: MinHeap<LineCursor> }>(cursorBefore);
    for (const group of this.waiting.values()) {
      const b = bumped.get(group.guildId);
      const lines = new MinHeap<LineCursor>(cursorBefore);
      for (const [user, line] of group.lines) {
        const served = b?.users.get(user) ?? group.userServed.get(user) ?? -1;
        lines.push({ items: line.items, next: 0, priority: line.items[0]!.priority, standing: { served, joined: line.joined } });
      }
      groups.push({ lines, priority: lines.peek()!.priority, standing: { served: b?.served ?? group.served, joined: group.joined } });
    }
    // The server and the user whose turn it is stay on top of their heaps while their keys move on.
    for (let g = groups.peek(); g; g = groups.peek()) {
      const line = g.lines.peek()!;
      out.push(line.items[line.next]!);
      seq += 1;
      line.next += 1;
      const item = line.items[line.next];
      if (item === undefined) g.lines.pop();
      else {
        line.priority = item.priority;
        line.standing.served = seq;
        g.lines.topChanged();
      }
      const top = g.lines.peek();
      if (top === undefined) {
        groups.pop();
        continue;
      }
      g.priority = top.priority;
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
