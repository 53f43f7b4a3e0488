// One submission, whatever started it (a slash command, Reroll, Edit, Upscale): policy checks, prepareJob,
// scheduler.submit, the store row, and the job card that follows the job. The interaction is already deferred,
// so its reply becomes the card (or the refusal).
import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Job, JobOwner } from '../../jobs/job.js';
import { persistJob } from '../../jobs/persistence.js';
import { jobSpecFromPrepared, type ImageBytes } from '../../jobs/spec.js';
import type { JobParent } from '../../jobs/store-types.js';
import { instrumentJob } from '../../ops/instrument.js';
import { applyDefaults, auditJob, checkAccess, checkPrompt, dmSettings, guildLimitOverrides, type AuditOutcome } from '../../policy/index.js';
import { LimitError } from '../../scheduler/limits.js';
import { UnavailableError } from '../../scheduler/errors.js';
import type { CommandDefinition } from '../../templates/definition.js';
import { OptionError } from '../../templates/errors.js';
import { prepareJob } from '../../templates/prepare.js';
import { isModerator } from '../permissions.js';
import { uploadLimit } from '../delivery.js';
import { INTERACTION_TOKEN_LIFETIME_MS } from '../interactionTransport.js';
import { refusalMessage } from '../settings/format.js';
import { startJobCard } from '../wiring/cardSession.js';
import { accessOf } from '../wiring/access.js';
import type { BotContext } from '../wiring/context.js';

export type SubmittingInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export interface Submission {
  definition: CommandDefinition;
  /** Raw option values as Discord sent them (image options hold their file name). */
  values: Record<string, unknown>;
  /** Image options' bytes, already checked and re-encoded. */
  images: Record<string, ImageBytes>;
  /** The job this one is made from, and by which follow-up action. */
  parent: JobParent | null;
}

const REFUSED_COLOR = 0xed4245;

/** The deferred reply, turned into a plain refusal: nothing was queued. */
export async function refuse(interaction: SubmittingInteraction, command: string, message: string): Promise<void> {
  await interaction.editReply({
    embeds: [{ title: `/${command} · Not queued`, description: `❌ ${message}`, color: REFUSED_COLOR }],
    components: [],
  });
}

type Checked = { ok: true; job: Job } | { ok: false; outcome: AuditOutcome; message: string };

export async function submitJob(ctx: BotContext, interaction: SubmittingInteraction, submission: Submission): Promise<Job | null> {
  const { definition } = submission;
  const access = accessOf(interaction);
  const owner: JobOwner = { userId: interaction.user.id, guildId: interaction.guildId, roles: [...(access?.roleIds ?? [])] };
  // In a DM no server policy exists: the operator's DM policy applies instead.
  const settings = interaction.guildId ? ctx.store.guildSettings(interaction.guildId) : dmSettings(ctx.config.dmPolicy);
  const audit = { userId: owner.userId, guildId: owner.guildId, channelId: interaction.channelId, command: definition.name };

  const checked = ((): Checked => {
    if (settings && interaction.channelId) {
      const channel = interaction.channel;
      const allowed = checkAccess({
        settings,
        command: definition.name,
        channelId: interaction.channelId,
        parentChannelId: channel && 'parentId' in channel ? channel.parentId : null,
        roleIds: owner.roles,
        isModerator: isModerator(access, { moderatorRoles: [...ctx.config.discord.moderatorRoles, ...settings.moderatorRoles] }),
      });
      if (!allowed.ok) return { ok: false, outcome: 'refused-access', message: refusalMessage(allowed) };
    }
    const { values } = applyDefaults(definition, submission.values, ctx.store.userDefaults(owner.userId, definition.name));
    let prepared;
    try {
      prepared = prepareJob(definition, values);
    } catch (error) {
      if (error instanceof OptionError) return { ok: false, outcome: 'invalid', message: error.message };
      throw error;
    }
    if (settings) {
      const strings = definition.options.filter((o) => o.type === 'string').map((o) => o.name);
      const verdict = checkPrompt(settings, prepared.params, strings);
      if (verdict.blocked) return { ok: false, outcome: 'blocked', message: verdict.reply };
    }
    const spec = jobSpecFromPrepared(prepared, owner, submission.images, definition.limits);
    // The guild's per-role limits apply on top of the configured ones (admission only).
    if (settings && owner.guildId) spec.limitOverrides = guildLimitOverrides(owner.guildId, settings);
    try {
      return { ok: true, job: ctx.scheduler.submit(spec) };
    } catch (error) {
      if (error instanceof LimitError || error instanceof UnavailableError) return { ok: false, outcome: 'refused-limit', message: error.message };
      throw error;
    }
  })();

  if (!checked.ok) {
    auditJob(ctx.logger, { ...audit, jobId: null, params: submission.values, outcome: checked.outcome, detail: checked.message });
    await refuse(interaction, definition.name, checked.message);
    return null;
  }
  const { job } = checked;
  // Synchronously after submit: the row, with the prompt id, is written before the backend request leaves.
  persistJob(
    ctx.store,
    job,
    {
      channelId: interaction.channelId,
      interaction: { token: interaction.token, expiresAt: interaction.createdTimestamp + INTERACTION_TOKEN_LIFETIME_MS },
      parent: submission.parent,
      uploadLimit: uploadLimit(interaction.attachmentSizeLimit),
      images: Object.entries(submission.images).map(([option, image]) => ({ option, filename: image.filename, mime: 'image/png', bytes: image.bytes })),
    },
    ctx.logger,
  );
  auditJob(ctx.logger, { ...audit, jobId: job.id, params: job.spec.params ?? {}, outcome: 'queued' });
  instrumentJob(job, ctx.metrics);
  startJobCard(ctx, interaction, job);
  return job;
}
