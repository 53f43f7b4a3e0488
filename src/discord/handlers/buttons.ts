// The buttons on job cards and the remix modals. Each custom_id names its job, which is looked up in the store (or
// the scheduler, for live jobs), so buttons keep working after a restart. Follow-up actions are in ../actions/.
import { MessageFlags, type ButtonInteraction, type ModalSubmitInteraction } from 'discord.js';
import type { JobRow } from '../../jobs/store-types.js';
import { pickOutput, sendOriginals } from '../actions/gridButtons.js';
import { pressAction, submitRemix } from '../actions/run.js';
import { decodeCustomId } from '../customIds.js';
import { isUnknownMessage } from '../discordErrors.js';
import { mayControlJob, moderatesJob } from '../permissions.js';
import { accessOf } from '../wiring/access.js';
import type { CancelOutcome } from '../wiring/canceller.js';
import type { BotContext } from '../wiring/context.js';

const NOT_YOUR_JOB = "This is not your job: only its owner and this server's moderators can do that.";

function ephemeral(interaction: ButtonInteraction | ModalSubmitInteraction, content: string): Promise<unknown> {
  const options = { content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
  return interaction.deferred || interaction.replied ? interaction.followUp(options) : interaction.reply(options);
}

function moderators(ctx: BotContext, guildId: string | null): { moderatorRoles: string[] } {
  const extra = guildId ? ctx.store.guildSettings(guildId).moderatorRoles : [];
  return { moderatorRoles: [...ctx.config.discord.moderatorRoles, ...extra] };
}

function mayControl(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): boolean {
  return mayControlJob(accessOf(interaction), interaction.user.id, interaction.guildId, row, moderators(ctx, interaction.guildId));
}

export async function handleButton(ctx: BotContext, interaction: ButtonInteraction): Promise<void> {
  const id = decodeCustomId(interaction.customId);
  if (!id || id.kind !== 'button') {
    await ephemeral(interaction, 'This button is not one of mine any more.');
    return;
  }
  const row = ctx.store.get(id.jobId);
  if (!row) {
    await ephemeral(interaction, 'That job is no longer known (it may have been pruned).');
    return;
  }
  switch (id.action) {
    case 'cancel':
      return cancel(ctx, interaction, row);
    case 'delete':
      return remove(ctx, interaction, row);
    case 'run':
      return pressAction(ctx, interaction, row, id.name, id.index);
    case 'pick':
      return pickOutput(ctx, interaction, row, id.index);
    case 'files':
      return sendOriginals(ctx, interaction, row);
  }
}

async function cancel(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): Promise<void> {
  if (!mayControl(ctx, interaction, row)) {
    await ephemeral(interaction, NOT_YOUR_JOB);
    return;
  }
  // The card itself shows the cancellation; the press needs no message of its own unless something is to be said.
  await interaction.deferUpdate();
  const isModerator = moderatesJob(accessOf(interaction), interaction.guildId, row, moderators(ctx, interaction.guildId));
  const answer = cancelAnswer(await ctx.canceller.cancel(row.id, { userId: interaction.user.id, isModerator }));
  if (answer !== null) await ephemeral(interaction, answer);
}

/** What the member who pressed Cancel is told; null when the card says it all. */
export function cancelAnswer(outcome: CancelOutcome): string | null {
  switch (outcome.kind) {
    case 'ended':
      return null;
    case 'recorded':
      // No leader holds the lease (a failover): the request waits in the job's row for the next one.
      return outcome.leaderUp ? null : "Cancel recorded: the job stops as soon as the bot's leader picks it up, and its card will say so.";
    case 'refused':
      if (outcome.reason === 'not-yours') return NOT_YOUR_JOB;
      return outcome.reason === 'finished' ? 'This job has already finished.' : 'This job is already being cancelled.';
  }
}

async function remove(ctx: BotContext, interaction: ButtonInteraction, row: JobRow): Promise<void> {
  if (!mayControl(ctx, interaction, row)) {
    await ephemeral(interaction, NOT_YOUR_JOB);
    return;
  }
  try {
    await interaction.deferUpdate();
    await interaction.message.delete();
  } catch (error) {
    // A second press of Delete (or someone else's) that arrived before the card was gone: nothing went wrong.
    if (!isUnknownMessage(error)) throw error;
    await ephemeral(interaction, 'This card is already deleted.');
  }
}

/** A remix modal: the action it belongs to runs with the edited values. */
export async function handleModal(ctx: BotContext, interaction: ModalSubmitInteraction): Promise<void> {
  const id = decodeCustomId(interaction.customId);
  const row = id?.kind === 'modal' ? ctx.store.get(id.jobId) : null;
  if (!row || id?.kind !== 'modal') {
    await ephemeral(interaction, 'That job is no longer known.');
    return;
  }
  await submitRemix(ctx, interaction, row, id.name, id.index);
}
