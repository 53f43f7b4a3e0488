// The discord.js side of one job card: the interaction's reply (then a channel message, past the token's life) as
// the transport, a card editor paced per channel, and what happens once the job ends (store, metrics, audit).
import { InteractionWebhook, Routes, type ButtonInteraction, type ChatInputCommandInteraction, type Client, type ModalSubmitInteraction, type SendableChannels } from 'discord.js';
import type { Job } from '../../jobs/job.js';
import type { OutputFile } from '../../comfy/types.js';
import { auditJob } from '../../policy/audit.js';
import { spoilerResults as guildWantsSpoilers } from '../../policy/limits.js';
import type { GuildSettings } from '../../jobs/store-settings.js';
import type { InteractionRef, JobParent, JobRow } from '../../jobs/store-types.js';
import { CardEditor, type CardTransport } from '../cardEditor.js';
import type { CardFile, CardView, ParamValue } from '../cardRenderer.js';
import type { EditBucket } from '../channelPacer.js';
import { planDelivery, uploadLimit, type DeliveryPlan } from '../delivery.js';
import { DiscordCardTransport, INTERACTION_TOKEN_LIFETIME_MS, type CardLocation, type ReplyHandle } from '../interactionTransport.js';
import { followJobCard, type JobCardResult, type ResultDelivery } from '../jobCard.js';
import { ChannelCardTransport } from './channelCardTransport.js';
import { commandFor, type BotContext } from './context.js';
import { OwnerDm } from './ownerDm.js';
import { planWithGrid } from '../actions/gridDelivery.js';
import { parentOf, type Lineage } from '../actions/lineage.js';
import { promptKeyOf } from './promptKey.js';
import { directReplyEdits } from '../replyEdits.js';

type CardInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;


/** Resolves a channel the bot can post in, or null (unknown, not text, no access). */
async function sendableChannel(ctx: BotContext, channelId: string | null): Promise<SendableChannels | null> {
  if (channelId === null) return null;
  const channel = await ctx.client.channels.fetch(channelId).catch(() => null);
  if (channel) return channel.isSendable() ? channel : null;
  // A channel of a server on another process's gateway shard: discord.js builds a server's channel only once it
  // knows the server, so the server is fetched first (a leader edits every shard's cards).
  const raw = (await ctx.client.rest.get(Routes.channel(channelId)).catch(() => null)) as { guild_id?: string } | null;
  if (!raw?.guild_id || ctx.client.guilds.cache.has(raw.guild_id)) return null;
  await ctx.client.guilds.fetch(raw.guild_id).catch(() => null);
  const again = await ctx.client.channels.fetch(channelId, { force: true }).catch(() => null);
  return again?.isSendable() ? again : null;
}

function displayParams(params: Record<string, unknown>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof value)) out[name] = value as ParamValue;
  }
  return out;
}

/** Where a card lives and how its extra result messages are sent. */
interface CardPlace {
  transport: CardTransport & { readonly location: CardLocation };
  channelId: string | null;
  limitBytes: number;
  /** The upload limit the job's row holds (null: none recorded), so planning for the same one writes nothing. */
  storedLimit: number | null;
  /** The job this one was made from, as its row says (the card links it). */
  lineage: Lineage;
  /** Posts a message of further results when the channel cannot be used (an interaction follow-up). */
  followUp?: (options: { content: string; files: CardFile[] }) => Promise<{ id: string }>;
  /** The card message's id, once known, for the delivery record. */
  messageId: () => string | null;
  /** Which channel bucket an edit of the card draws from now (see channelPacer.ts). */
  editBucket: () => EditBucket;
}

/** A new job's card: the reply to the interaction that submitted it (its answer, when not answered yet). */
export function startJobCard(ctx: BotContext, interaction: CardInteraction, job: Job, parent: JobParent | null): void {
  replyCard(ctx, job, {
    lineage: { id: job.id, parentId: parent?.jobId ?? null, parentOutput: parent?.output ?? null },
    reply: directReplyEdits(ctx.client.rest, interaction, interaction.deferred || interaction.replied ? undefined : interaction),
    channelId: interaction.channelId,
    limitBytes: uploadLimit(interaction.attachmentSizeLimit),
    // submitJob wrote the row with this very limit.
    storedLimit: uploadLimit(interaction.attachmentSizeLimit),
    followUp: (message) => interaction.followUp(message),
  });
}

/** The card as the interaction's reply, edited through its token until it moves to a channel message. */
function replyCard(
  ctx: BotContext,
  job: Job,
  place: Pick<CardPlace, 'channelId' | 'limitBytes' | 'storedLimit' | 'lineage'> & { reply: ReplyHandle; followUp: NonNullable<CardPlace['followUp']> },
): void {
  const log = ctx.logger.child({ job: job.id });
  const { channelId } = place;
  let replyId: string | null = null;
  const transport = new DiscordCardTransport({
    interaction: place.reply,
    channel: () => sendableChannel(ctx, channelId),
    channelId,
    ephemeral: false,
    onMoved: (location) => cardMoved(ctx, job, location),
    onTokenDead: () => safely(log, 'dead interaction token', () => ctx.store.updateJob(job.id, { interaction: null })),
    // The reply's id lets the store (and recovery) find the card without the interaction token. The card's first
    // PATCH follows the submission at once (or the answer that carried the card, at the next change) and Discord's
    // answer to it carries the id: no request of its own.
    onReplyId: (messageId) => {
      replyId = messageId;
      safely(log, 'card message id', () => ctx.store.updateJob(job.id, { messageId }));
    },
  });
  runCard(ctx, job, {
    transport,
    channelId,
    limitBytes: place.limitBytes,
    storedLimit: place.storedLimit,
    lineage: place.lineage,
    followUp: place.followUp,
    messageId: () => transport.location.messageId ?? replyId,
    // The interaction reply is edited through its token until the card moves to a channel message of its own.
    editBucket: () => (transport.location.messageId === null ? 'interaction' : 'channel'),
  });
}

/**
 * Where a stored card continues: its reply, through the interaction's token while the token lasts and the card has
 * not moved to a message of its own; else the channel message the store recorded (`messageId` null: never posted);
 * null for a card in no channel (a DM never opened). Recovery continues cards here and a standby telling members
 * that the leader was lost edits them here, so the two always agree.
 */
export type StoredCardPlace =
  | { kind: 'reply'; applicationId: string; interaction: InteractionRef }
  | { kind: 'message'; channelId: string; messageId: string | null }
  | null;

export function storedCardPlace(ctx: Pick<BotContext, 'client'>, row: Pick<JobRow, 'messageId' | 'interaction' | 'channelId'>, now = Date.now()): StoredCardPlace {
  const application = ctx.client.application;
  if (row.messageId === null && row.interaction !== null && row.interaction.expiresAt > now && application) {
    return { kind: 'reply', applicationId: application.id, interaction: row.interaction };
  }
  return row.channelId === null ? null : { kind: 'message', channelId: row.channelId, messageId: row.messageId };
}

/**
 * The card of a job recovered after a restart, or adopted from the process that admitted it: the message the
 * store recorded, edited with the bot's token (or a new message when none was recorded). A job whose reply was
 * never edited yet (another process admitted it, or the crash came first) keeps its reply as the card, through
 * the interaction's token while it lasts. Cards in no channel (DMs never opened) cannot be resumed.
 */
export function resumeJobCard(ctx: BotContext, job: Job, row: JobRow): void {
  const place = storedCardPlace(ctx, row);
  if (place?.kind === 'reply') {
    const { applicationId, interaction } = place;
    const webhook = new InteractionWebhook(ctx.client as Client<true>, applicationId, interaction.token);
    replyCard(ctx, job, {
      reply: directReplyEdits(ctx.client.rest, {
        applicationId,
        token: interaction.token,
        createdTimestamp: interaction.expiresAt - INTERACTION_TOKEN_LIFETIME_MS,
      }),
      channelId: row.channelId,
      limitBytes: uploadLimit(row.uploadLimit),
      storedLimit: row.uploadLimit,
      lineage: row,
      followUp: (message) => webhook.send(message),
    });
    return;
  }
  if (place === null) {
    ctx.logger.warn({ job: job.id }, 'recovered job has no channel; its card cannot be shown');
    return;
  }
  const transport = channelTransport(ctx, row, place.channelId);
  runCard(ctx, job, {
    transport,
    channelId: place.channelId,
    // The limit the live card had: planned for the default instead, files would be re-encoded for nothing.
    limitBytes: uploadLimit(row.uploadLimit),
    storedLimit: row.uploadLimit,
    lineage: row,
    messageId: () => transport.location.messageId,
    editBucket: () => 'channel',
  });
}

export function channelTransport(ctx: BotContext, row: JobRow, channelId: string): ChannelCardTransport {
  return new ChannelCardTransport({
    channelId,
    messageId: row.messageId,
    guildId: row.guildId,
    channel: async () => {
      const channel = await sendableChannel(ctx, channelId);
      return channel && 'messages' in channel ? channel : null;
    },
    onMoved: (location) => cardMoved(ctx, row, location),
  });
}

function cardMoved(ctx: BotContext, job: { id: string }, location: CardLocation): void {
  ctx.logger.info({ job: job.id, messageId: location.messageId }, 'job card continues on a channel message');
  // The card no longer goes through the interaction, so its token is not kept.
  if (location.messageId) safely(ctx.logger, 'card location', () => ctx.store.updateJob(job.id, { messageId: location.messageId, interaction: null }));
}

export function cardEditor(
  ctx: BotContext,
  jobId: string,
  transport: CardTransport,
  channelId: string | null,
  owner: OwnerDm,
  editBucket: () => EditBucket = () => 'channel',
): CardEditor {
  return new CardEditor({
    transport,
    pacer: ctx.pacer(channelId),
    editBucket,
    logger: ctx.logger.child({ job: jobId }),
    onUnreachable: (info) => owner.cardUnreachable(info),
  });
}

/** A guild's yes/no choice about how its results are posted: never in DMs, and a settings row that cannot be
 * read means no (`otherwise` says what that means, for the log). */
function guildChoice(ctx: BotContext, guildId: string | null, choice: (settings: GuildSettings) => boolean, otherwise: string): boolean {
  if (guildId === null) return false;
  try {
    return choice(ctx.store.guildSettings(guildId));
  } catch (error) {
    ctx.logger.error({ err: error, guild: guildId }, `guild settings unreadable; ${otherwise}`);
    return false;
  }
}

/** The guild's choice to post results as spoilers. */
export function spoilerResults(ctx: BotContext, guildId: string | null): boolean {
  return guildChoice(ctx, guildId, guildWantsSpoilers, 'results are posted without spoilers');
}

/** The guild's choice to attach a batch's originals under its grid. */
export function gridOriginals(ctx: BotContext, guildId: string | null): boolean {
  return guildChoice(ctx, guildId, (settings) => settings.gridOriginals, 'grids are posted without their originals');
}

/** What every delivery of a job's results shares, live or after an interruption. */
export function resultDelivery(
  ctx: BotContext,
  job: { id: string; command: string; guildId: string | null; uploadLimit: number | null },
  owner: OwnerDm,
): Pick<ResultDelivery, 'planDelivery' | 'record' | 'detour'> {
  let stored = job.uploadLimit;
  return {
    planDelivery: (outputs, limitBytes) => {
      // Whatever is posted from this plan is named and batched for this limit: a later attempt plans the same.
      // The row mostly holds it already (the interaction's limit, written at admission): then nothing is written.
      if (limitBytes !== stored) {
        safely(ctx.logger, 'upload limit', () => {
          ctx.store.updateJob(job.id, { uploadLimit: limitBytes });
          stored = limitBytes;
        });
      }
      const spoiler = spoilerResults(ctx, job.guildId);
      const plan = (files: readonly OutputFile[]) => planDelivery(files, { command: job.command, jobId: job.id, limitBytes, spoiler });
      return planWithGrid(outputs, limitBytes, plan, ctx.logger.child({ job: job.id }), { originals: gridOriginals(ctx, job.guildId) });
    },
    record: (posted) => safely(ctx.logger, 'delivery', () => ctx.store.recordDelivery(job.id, posted)),
    detour: () => owner.detour(),
  };
}

function runCard(ctx: BotContext, job: Job, place: CardPlace): void {
  const log = ctx.logger.child({ job: job.id });
  const { channelId, limitBytes } = place;
  const owner = new OwnerDm(ctx, job.id, job.owner.userId, channelId);
  // The retry of pending deliveries leaves this job alone while its own card still delivers it.
  ctx.delivering.add(job.id);
  const card = followJobCard({
    job,
    editor: cardEditor(ctx, job.id, place.transport, channelId, owner, place.editBucket),
    base: cardBase(ctx, { ...place.lineage, ownerId: job.owner.userId, guildId: job.owner.guildId, command: job.command, params: job.params, mode: job.mode }),
    position: () => ctx.scheduler.position(job.id),
    expectedEnd: () => ctx.scheduler.expectedEnd(job.id),
    queueSize: () => ctx.scheduler.jobs().filter((j) => j.state === 'queued').length,
    // A frame that fails to encode is reported where the card asks for it (latestPreview), not here as well.
    offerPreview: (jobId, bytes) => void ctx.previews.submit(jobId, bytes).catch(() => undefined),
    latestPreview: (jobId) => ctx.previews.latest(jobId),
    ...resultDelivery(ctx, { id: job.id, command: job.command, guildId: job.owner.guildId, uploadLimit: place.storedLimit }, owner),
    limitBytes,
    cardMessageId: place.messageId,
    postBatch: (files, batch, of) => postBatch(ctx, place, files, `Results ${batch} of ${of} · job ${job.id}`),
    cancelledBy: () => ctx.cancelledBy.get(job.id) ?? null,
    onPreviewShown: () => ctx.metrics.previewsSent.inc(),
    logger: log,
  }).then(
    (result) => finished(ctx, job, result, channelId),
    (error: unknown) => log.error({ err: error }, 'job card stopped following the job'),
  );
  ctx.cards.add(card);
  void card.finally(() => {
    ctx.cards.delete(card);
    ctx.delivering.delete(job.id);
    ctx.previews.forget(job.id);
    ctx.cancelledBy.delete(job.id);
  });
}

/**
 * What every state of a job's card shows: its command's prompt and follow-up actions (as the command file says
 * now), its parameters and, for a job made by an action, the link to its parent's card.
 */
export function cardBase(ctx: BotContext, job: Lineage & Pick<JobRow, 'ownerId' | 'guildId' | 'command' | 'params' | 'mode'>): Omit<CardView, 'state'> {
  const definition = commandFor(ctx, job.guildId, job.command);
  return {
    jobId: job.id,
    ownerId: job.ownerId,
    command: job.command,
    promptKey: definition ? promptKeyOf(definition) : null,
    params: displayParams(job.params),
    actions: definition?.actions ?? [],
    parent: parentOf(ctx, job),
    relax: job.mode === 'relax',
  };
}

/** Posts a message of further results in the card's channel; resolves with its id. */
export async function postInChannel(ctx: BotContext, channelId: string | null, files: CardFile[], content: string): Promise<string> {
  const channel = await sendableChannel(ctx, channelId);
  if (!channel) throw new Error(`channel ${channelId ?? '(none)'} is not available for the further results`);
  return (await channel.send({ content, files })).id;
}

async function postBatch(ctx: BotContext, place: CardPlace, files: CardFile[], content: string): Promise<string> {
  const channel = await sendableChannel(ctx, place.channelId);
  if (!channel && place.followUp) return (await place.followUp({ content, files })).id;
  return postInChannel(ctx, place.channelId, files, content);
}

function finished(ctx: BotContext, job: Job, result: JobCardResult, channelId: string | null): void {
  auditJob(ctx.logger, {
    jobId: job.id,
    userId: job.owner.userId,
    guildId: job.owner.guildId,
    channelId,
    command: job.command,
    params: job.params,
    outcome: result.state,
    ...(job.error ? { detail: job.error } : {}),
  });
  if (result.state === 'succeeded' && !result.complete) {
    ctx.logger.warn({ job: job.id }, 'results not (all) posted; kept pending and retried');
  }
}

function safely(log: BotContext['logger'], what: string, write: () => unknown): void {
  try {
    write();
  } catch (error) {
    log.error({ err: error }, `job store: could not record ${what}`);
  }
}
