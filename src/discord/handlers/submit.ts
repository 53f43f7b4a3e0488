// One submission, whatever started it (a slash command, Reroll, Edit, Upscale): the checks in the order of
// their cost, then the images, scheduler.submit, the store row, and the job card that follows the job. The
// interaction's reply becomes the card (or the refusal): buttons and modals arrive deferred; a slash command
// arrives unanswered and is answered with the card itself when nothing slow comes before its admission.
import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from 'discord.js';
import type { Job, JobOwner } from '../../jobs/job.js';
import { jobSpecFromPrepared } from '../../jobs/spec.js';
import type { GuildSettings } from '../../jobs/store-settings.js';
import type { JobParent } from '../../jobs/store-types.js';
import { instrumentJob } from '../../ops/instrument.js';
import { applyDefaults, auditJob, checkAccess, checkPrompt, dmSettings, guildLimitOverrides, modeRequest, promptOptionNames, type AuditOutcome } from '../../policy/index.js';
import { LimitError } from '../../scheduler/limits.js';
import { UnavailableError } from '../../scheduler/errors.js';
import type { AdmissionQuery } from '../../scheduler/scheduler.js';
import type { CommandDefinition } from '../../templates/definition.js';
import { OptionError } from '../../templates/errors.js';
import { prepareJob, type PreparedJob } from '../../templates/prepare.js';
import { ImageInputError, readyImage, type ImageSource, type ReadyImage } from '../imageInputs.js';
import { isModerator } from '../permissions.js';
import { uploadLimit } from '../delivery.js';
import { INTERACTION_TOKEN_LIFETIME_MS } from '../interactionTransport.js';
import { refusalMessage } from '../settings/format.js';
import { startJobCard } from '../wiring/cardSession.js';
import { accessOf } from '../wiring/access.js';
import { reportDisabledPattern } from '../wiring/patternReport.js';
import type { BotContext } from '../wiring/context.js';
import type { Accepted } from '../wiring/intake.js';

export type SubmittingInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export interface Submission {
  definition: CommandDefinition;
  /** Raw option values as Discord sent them (image options hold their file name). */
  values: Record<string, unknown>;
  /** Where each image option's file comes from; fetched only once every cheap check has passed. */
  images: Record<string, ImageSource>;
  /** The job this one is made from, and by which follow-up action. */
  parent: JobParent | null;
}

const REFUSED_COLOR = 0xed4245;

/** The reply, as a plain refusal: nothing was queued. */
export async function refuse(interaction: SubmittingInteraction, command: string, message: string): Promise<void> {
  const refusal = { embeds: [{ title: `/${command} · Not queued`, description: `❌ ${message}`, color: REFUSED_COLOR }], components: [] };
  await (interaction.deferred || interaction.replied ? interaction.editReply(refusal) : interaction.reply(refusal));
}

/**
 * Whether anything before the admission may take long: downloading and decoding attachments, the server's admin
 * patterns (a worker with a one-second backstop per check, one check at a time), or a hand-over to the leader
 * (whose card edits need an answered interaction). Then the interaction is deferred first; otherwise its answer is
 * the card, within Discord's three seconds.
 */
function admissionMayBeSlow(ctx: BotContext, submission: Submission, settings: GuildSettings | null): boolean {
  return Object.keys(submission.images).length > 0 || (settings?.blockedPatterns.length ?? 0) > 0 || !ctx.intake.runsHere;
}

type Refusal = { outcome: AuditOutcome; message: string };

/** The scheduler's refusals (limits, paused or draining, no backend able to run it) as a member reads them. */
function schedulerRefusal(error: unknown): Refusal {
  if (error instanceof LimitError || error instanceof UnavailableError) return { outcome: 'refused-limit', message: error.message };
  throw error;
}

/**
 * The one submission path, for every entry point. Untrusted input pays for cheap checks first, in this order:
 * where and by whom (channel, role); whether the bot (or the server) takes jobs and the member's limits —
 * side-effect-free, before the blocked lists so a refused member's retries are turned away by their interval
 * without running the lists again —; blocked words and patterns; the options; whether a backend can run it.
 * Only then are attachments downloaded and decoded, and the scheduler admits the job for real (its checks run
 * again). A refusal after work was done (a blocked prompt, a refused image) starts the member's interval.
 */
export async function submitJob(ctx: BotContext, interaction: SubmittingInteraction, submission: Submission): Promise<Job | null> {
  const { definition } = submission;
  const access = accessOf(interaction);
  const owner: JobOwner = { userId: interaction.user.id, guildId: interaction.guildId, roles: [...(access?.roleIds ?? [])] };
  // In a DM no server policy exists: the operator's DM policy applies instead.
  const settings = interaction.guildId ? ctx.store.guildSettings(interaction.guildId) : dmSettings(ctx.config.dmPolicy);
  if (!interaction.deferred && !interaction.replied && admissionMayBeSlow(ctx, submission, settings)) await interaction.deferReply();
  const audit = { userId: owner.userId, guildId: owner.guildId, channelId: interaction.channelId, command: definition.name };
  const refused = async (refusal: Refusal): Promise<null> => {
    auditJob(ctx.logger, { ...audit, jobId: null, params: submission.values, outcome: refusal.outcome, detail: refusal.message });
    await refuse(interaction, definition.name, refusal.message);
    return null;
  };

  const checked = await (async (): Promise<Refusal | { prepared: PreparedJob; query: AdmissionQuery }> => {
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
      if (!allowed.ok) return { outcome: 'refused-access', message: refusalMessage(allowed) };
    }
    // The guild's per-role limits apply on top of the configured ones (admission only).
    const query: AdmissionQuery = {
      owner,
      command: definition.name,
      ...(definition.limits ? { commandLimits: definition.limits } : {}),
      ...(settings && owner.guildId ? { limitOverrides: guildLimitOverrides(owner.guildId, settings) } : {}),
      modeRequest: modeRequest(ctx.store, owner.userId, interaction.guildId ? settings : null, ctx.config.relax.allowed),
    };
    try {
      ctx.intake.check(query);
    } catch (error) {
      return schedulerRefusal(error);
    }
    const { values } = applyDefaults(definition, submission.values, ctx.store.userDefaults(owner.userId, definition.name));
    if (settings) {
      const guildId = owner.guildId;
      const verdict = await checkPrompt(settings, values, promptOptionNames(definition), (disabled) => {
        if (guildId) reportDisabledPattern(ctx, guildId, disabled);
      });
      if (verdict.blocked) {
        ctx.scheduler.noteRefused(owner.userId);
        return { outcome: verdict.matched.kind === 'too-long' ? 'invalid' : 'blocked', message: verdict.reply };
      }
    }
    let prepared: PreparedJob;
    try {
      prepared = prepareJob(definition, values);
    } catch (error) {
      if (error instanceof OptionError) return { outcome: 'invalid', message: error.message };
      throw error;
    }
    try {
      ctx.intake.check({ ...query, workflow: prepared.workflow, ...(prepared.choices.length > 0 ? { choices: prepared.choices } : {}) });
    } catch (error) {
      return schedulerRefusal(error);
    }
    return { prepared, query };
  })();
  if ('outcome' in checked) return refused(checked);

  // The expensive part: downloads and decoding, for a submission that passed every check above.
  const images: Record<string, ReadyImage> = {};
  try {
    for (const [option, source] of Object.entries(submission.images)) images[option] = await readyImage(option, source, ctx.imageInputs);
  } catch (error) {
    if (!(error instanceof ImageInputError)) throw error;
    forget(ctx, images);
    ctx.scheduler.noteRefused(owner.userId);
    return refused({ outcome: 'invalid', message: error.message });
  }
  const files = Object.fromEntries(Object.entries(images).map(([option, image]) => [option, { filename: image.filename, path: image.saved.path }]));
  const { limitOverrides, modeRequest: request } = checked.query;
  const spec = {
    ...jobSpecFromPrepared(checked.prepared, owner, files, definition.limits),
    ...(limitOverrides ? { limitOverrides } : {}),
    ...(request ? { modeRequest: request } : {}),
  };
  let accepted: Accepted;
  try {
    accepted = ctx.intake.accept(spec, {
      channelId: interaction.channelId,
      interaction: { token: interaction.token, expiresAt: interaction.createdTimestamp + INTERACTION_TOKEN_LIFETIME_MS },
      parent: submission.parent,
      uploadLimit: uploadLimit(interaction.attachmentSizeLimit),
      images: Object.entries(images).map(([option, image]) => ({ option, filename: image.filename, mime: image.mime, saved: image.saved })),
    });
  } catch (error) {
    forget(ctx, images);
    return refused(schedulerRefusal(error));
  }
  const { job } = accepted;
  auditJob(ctx.logger, { ...audit, jobId: accepted.id, params: job?.params ?? spec.params ?? {}, outcome: 'queued' });
  // Handed to the leader: it adopts the row and edits this interaction's reply into the card.
  if (!job) return null;
  instrumentJob(job, ctx.metrics);
  startJobCard(ctx, interaction, job, submission.parent);
  return job;
}

/** Input files saved for a submission that was refused after all (those another job uses stay). */
function forget(ctx: BotContext, images: Record<string, ReadyImage>): void {
  for (const image of Object.values(images)) ctx.store.dropInput(image.saved.sha256);
}
