// Several processes: the leader that ran the jobs and edited their cards died, and no standby leads yet (the lease
// has not expired). The one standby that claimed the telling (cluster/leader-loss-watch.ts) edits each unfinished
// job's card once, where the next leader will continue it (the stored interaction token, else the stored message),
// to say so. It knows only the stored row: a queued card shows no place, a running one its elapsed time. Every
// edit is sent before `deadline`, which falls before the lease can pass on, so the next leader's first edit of the
// card comes after the notice and replaces it; a card whose turn in its channel comes later is left as it was.
import { Routes } from 'discord.js';
import type { JobRow } from '../../jobs/store-types.js';
import { renderCard, type CardState } from '../cardRenderer.js';
import type { EditBucket } from '../channelPacer.js';
import { cardEditBody } from '../replyEdits.js';
import { cardBase, storedCardPlace } from './cardSession.js';
import type { BotContext } from './context.js';

/** Where a stored card is edited (see storedCardPlace); null for a card never posted. */
type StoredCard = { route: `/${string}`; auth: boolean; bucket: EditBucket };

function storedCard(ctx: BotContext, row: JobRow, now: number): StoredCard | null {
  const place = storedCardPlace(ctx, row, now);
  if (place?.kind === 'reply') {
    // The interaction token authorises the webhook route; the bot token must not be sent with it.
    return { route: Routes.webhookMessage(place.applicationId, place.interaction.token, '@original'), auth: false, bucket: 'interaction' };
  }
  if (place === null || place.messageId === null) return null;
  return { route: Routes.channelMessage(place.channelId, place.messageId), auth: true, bucket: 'channel' };
}

function noticeState(row: JobRow, now: number): CardState {
  const outage = { kind: 'leader-lost' } as const;
  // The queue's order is the dead leader's knowledge: the card shows no place (a place of 1 shows none).
  if (row.state === 'queued') return { kind: 'queued', position: 1, of: 1, outage };
  return { kind: 'running', elapsedSeconds: row.startedAt === null ? 0 : Math.max(0, (now - row.startedAt) / 1000), outage };
}

/** Waits for the card's turn in its channel; false when the deadline comes first (the turn is given up). */
async function turnBefore(ctx: BotContext, row: JobRow, bucket: EditBucket, deadline: number): Promise<boolean> {
  const turn = ctx.pacer(row.channelId).request({ urgency: 'progress', bucket });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    const granted = await Promise.race([turn.granted.then(() => true as const), late]);
    if (!granted) turn.cancel();
    return granted;
  } finally {
    clearTimeout(timer);
  }
}

async function tell(ctx: BotContext, row: JobRow, deadline: number): Promise<boolean> {
  const card = storedCard(ctx, row, Date.now());
  if (card === null) return false;
  if (!(await turnBefore(ctx, row, card.bucket, deadline))) return false;
  const left = deadline - Date.now();
  if (left <= 0) return false;
  const body = cardEditBody(renderCard({ ...cardBase(ctx, row), state: noticeState(row, Date.now()) }));
  // Not sent after the deadline (discord.js would hold it through a rate limit): the next leader may edit by then.
  await ctx.client.rest.patch(card.route, { body, auth: card.auth, signal: AbortSignal.timeout(left) });
  return true;
}

/** Edits every unfinished job's card once to say the leader was lost; resolves with how many cards say so. */
export async function showLeaderLost(ctx: BotContext, deadline: number): Promise<number> {
  const rows = ctx.store.unfinished();
  const told = await Promise.all(
    rows.map((row) =>
      tell(ctx, row, deadline).catch((error: unknown) => {
        ctx.logger.warn({ err: error, job: row.id }, 'could not tell the card that the leader was lost');
        return false;
      }),
    ),
  );
  return told.filter(Boolean).length;
}
