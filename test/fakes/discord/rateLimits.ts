/** Route families that share a bucket per major id (webhook token, channel, interaction, application). */
export type RouteClass = 'webhook' | 'channel' | 'callback' | 'commands' | 'other';

export interface BucketLimit {
  limit: number;
  windowMs: number;
}

export type RateLimitConfig = Partial<Record<RouteClass, BucketLimit>>;

/** Community-observed numbers (discord-notes §2); callbacks and the rest are generous because Discord barely limits them. */
export const DEFAULT_RATE_LIMITS: Record<RouteClass, BucketLimit> = {
  webhook: { limit: 5, windowMs: 2000 },
  channel: { limit: 5, windowMs: 5000 },
  callback: { limit: 50, windowMs: 1000 },
  commands: { limit: 10, windowMs: 10_000 },
  other: { limit: 50, windowMs: 1000 },
};

export interface BucketDecision {
  allowed: boolean;
  headers: Record<string, string>;
  /** Seconds until the window resets, with millisecond precision. */
  retryAfter: number;
}

interface Window {
  startedAt: number;
  used: number;
}

/**
 * Fixed-window buckets keyed by (route class, major id), like Discord's: the window opens on the first request and
 * `Reset-After` counts down to its end. Runs on real time by default because discord.js waits on real timers.
 */
export class RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #limits: Record<RouteClass, BucketLimit>;

  constructor(
    config: RateLimitConfig = {},
    private readonly now: () => number = () => Date.now(),
  ) {
    this.#limits = { ...DEFAULT_RATE_LIMITS, ...config };
    for (const [name, limit] of Object.entries(this.#limits)) {
      if (!(limit.limit >= 1) || !(limit.windowMs > 0)) {
        throw new RangeError(`rateLimits.${name}: limit must be >= 1 and windowMs > 0, got ${JSON.stringify(limit)}`);
      }
    }
  }

  take(routeClass: RouteClass, majorId: string): BucketDecision {
    const { limit, windowMs } = this.#limits[routeClass];
    const key = `${routeClass}:${majorId}`;
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || now - window.startedAt >= windowMs) {
      window = { startedAt: now, used: 0 };
      this.#windows.set(key, window);
    }
    const allowed = window.used < limit;
    if (allowed) window.used += 1;
    const resetAfterMs = Math.max(0, window.startedAt + windowMs - now);
    const retryAfter = resetAfterMs / 1000;
    return {
      allowed,
      retryAfter,
      headers: {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(limit - window.used),
        'x-ratelimit-reset': ((now + resetAfterMs) / 1000).toFixed(3),
        'x-ratelimit-reset-after': retryAfter.toFixed(3),
        'x-ratelimit-bucket': `fake-${routeClass}`,
      },
    };
  }
}
