// What fair share goes by: each server's and each user's GPU time, decaying exponentially (half of it is
// forgotten every half-life), and each member's share weight from their roles.
import type { Clock } from './clock.js';
import type { UsageLookup } from './fair-queue.js';

/** Usage below this (ms) is forgotten, so the maps hold only recent users. */
const FORGET_BELOW_MS = 1;

/** Amounts per key, each decaying with the same half-life; amounts may be added at past times (start-up). */
export class DecayedUsage<K> {
  private readonly values = new Map<K, { amount: number; at: number }>();

  constructor(private readonly halfLifeMs: number) {
    if (!(halfLifeMs > 0)) throw new Error(`the fair-share half-life must be positive, got ${halfLifeMs} ms`);
  }

  /** The decayed amount at `now`. */
  at(key: K, now: number): number {
    const v = this.values.get(key);
    return v === undefined ? 0 : v.amount * this.decay(now - v.at);
  }

  /** Adds `amount` (negative to take back a provisional charge) as of `at`; the total never goes below 0. */
  add(key: K, amount: number, at: number): void {
    const v = this.values.get(key);
    // Kept as of the later of the two times, so an old charge (start-up history) decays as it should.
    const when = v === undefined ? at : Math.max(v.at, at);
    const total = (v === undefined ? 0 : v.amount * this.decay(when - v.at)) + amount * this.decay(when - at);
    if (total < FORGET_BELOW_MS) this.values.delete(key);
    else this.values.set(key, { amount: total, at: when });
  }

  get size(): number {
    return this.values.size;
  }

  private decay(ms: number): number {
    return ms <= 0 ? 1 : 2 ** (-ms / this.halfLifeMs);
  }
}

/** One GPU charge as the store keeps it (`JobStore.gpuChargesSince`). */
export interface PastCharge {
  userId: string;
  guildId: string | null;
  at: number;
  gpuMs: number;
}

/** The decayed GPU usage of every server and user, read by the fair queue at the clock's now. */
export class FairShare implements UsageLookup {
  private readonly servers: DecayedUsage<string | null>;
  private readonly users: DecayedUsage<string>;

  constructor(
    private readonly clock: Clock,
    halfLifeMs: number,
  ) {
    this.servers = new DecayedUsage(halfLifeMs);
    this.users = new DecayedUsage(halfLifeMs);
  }

  /** Set during a scheduling pass: every score of the pass is read at one instant, so they stay comparable. */
  private frozenAt: number | null = null;

  /** Runs `pass` with the usage read at one instant (a dispatch pass and its positions must agree). */
  atOneInstant<T>(pass: () => T): T {
    if (this.frozenAt !== null) return pass();
    this.frozenAt = this.clock.now();
    try {
      return pass();
    } finally {
      this.frozenAt = null;
    }
  }

  server(guildId: string | null): number {
    return this.servers.at(guildId, this.frozenAt ?? this.clock.now());
  }

  user(userId: string): number {
    return this.users.at(userId, this.frozenAt ?? this.clock.now());
  }

  charge(owner: { userId: string; guildId: string | null }, ms: number, at = this.clock.now()): void {
    if (ms === 0) return;
    this.servers.add(owner.guildId, ms, at);
    this.users.add(owner.userId, ms, at);
  }

  /** Start-up: the charges of jobs that finished before the restart, so a restart forgives no usage. */
  seed(history: Iterable<PastCharge>): void {
    for (const c of history) this.charge(c, c.gpuMs, c.at);
  }
}

/** The weight `discord.priorityRoles` map to now that roles carry share weights (was: served before everyone). */
export const PRIORITY_ROLE_WEIGHT = 10;

/**
 * A member's share weight: the largest weight among their roles that carry one (`roleWeights`, and
 * `priorityRoles` as PRIORITY_ROLE_WEIGHT), else 1.
 */
export function shareWeight(roles: readonly string[], roleWeights: Readonly<Record<string, number>>, priorityRoles: readonly string[]): number {
  let weight: number | undefined;
  for (const role of roles) {
    const w = roleWeights[role] ?? (priorityRoles.includes(role) ? PRIORITY_ROLE_WEIGHT : undefined);
    if (w !== undefined) weight = Math.max(weight ?? 0, w);
  }
  return weight ?? 1;
}
