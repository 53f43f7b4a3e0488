// What only the leader knows, published in the store for the standbys: each waiting job's place in the whole
// queue and when it is expected to start, when each running job started, and which backends are up. A standby
// renders /queue and /comfy status from the job rows plus this view (cluster/job-views.ts). Checked by zod on the
// way out, so a row written by another version is reported, not half-read.
import { z } from 'zod';

export const leaderViewSchema = z
  .object({
    waiting: z.array(
      z.object({
        id: z.string().min(1),
        /** 0-based place in the whole queue. */
        global: z.number().int().nonnegative(),
        /** The scheduler's estimate (JobPosition.eta) as an epoch time, so it ages correctly; null when none exists. */
        etaAt: z.number().nullable(),
        /** Its server's admins paused it: it waits behind every other job. */
        held: z.boolean(),
      }),
    ),
    running: z.array(z.object({ id: z.string().min(1), since: z.number() })),
    backends: z.array(z.object({ name: z.string().min(1), up: z.boolean() })),
  })
  .strict();

export type LeaderView = z.infer<typeof leaderViewSchema>;

/** The view as the store keeps it: who published it (the lease's fencing number) and when (epoch ms). */
export interface PublishedView {
  view: LeaderView;
  fence: number;
  publishedAt: number;
}
