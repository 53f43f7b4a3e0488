// The built-in commands: /queue, /cancel, /help (every member, ephemeral), /comfy (admins; re-checked here because
// default_member_permissions only hides the command) and /settings (the policy room's handlers).
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { CancelError } from '../../scheduler/errors.js';
import { canAdmin } from '../permissions.js';
import { renderHelp } from '../helpReply.js';
import { renderQueue, type QueuedJobView } from '../queueReply.js';
import { renderStatus, type BackendStatus, type BackendStatusView } from '../statusReply.js';
import { handleComfyConfig } from '../settings/guildConfig.js';
import { handleSettings } from '../settings/userSettings.js';
import type { SettingsDeps } from '../settings/interaction.js';
import { accessOf } from '../wiring/access.js';
import type { BackendHandle, BotContext } from '../wiring/context.js';

const EPHEMERAL = { flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;

function settingsDeps(ctx: BotContext): SettingsDeps {
  return { store: ctx.store, commands: () => ctx.registry.commands };
}

function isAdmin(interaction: ChatInputCommandInteraction): boolean {
  return canAdmin(accessOf(interaction));
}

export async function handleBuiltin(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<boolean> {
  switch (interaction.commandName) {
    case 'queue':
      await interaction.reply({ ...EPHEMERAL, ...queueReply(ctx, interaction.user.id) });
      return true;
    case 'cancel':
      await cancelAll(ctx, interaction);
      return true;
    case 'help':
      await interaction.reply({ ...EPHEMERAL, ...helpReply(ctx, isAdmin(interaction)) });
      return true;
    case 'comfy':
      await comfy(ctx, interaction);
      return true;
    case 'settings':
      await handleSettings(interaction, settingsDeps(ctx));
      return true;
    default:
      return false;
  }
}

function queueReply(ctx: BotContext, userId: string) {
  const now = Date.now();
  const jobs = ctx.scheduler.jobs();
  const yours: QueuedJobView[] = jobs
    .filter((job) => job.owner.userId === userId)
    .map((job) => {
      if (job.state === 'queued') {
        const position = ctx.scheduler.position(job.id);
        return { jobId: job.id, command: job.command, state: 'queued', position: (position?.global ?? 0) + 1, etaSeconds: position?.eta == null ? null : position.eta / 1000 };
      }
      const since = job.data.startedAt ?? job.data.dispatchedAt ?? now;
      return { jobId: job.id, command: job.command, state: 'running', elapsedSeconds: (now - since) / 1000 };
    });
  const undelivered: QueuedJobView[] = ctx.store
    .pendingDeliveries()
    .filter((row) => row.ownerId === userId)
    .map((row) => ({ jobId: row.id, command: row.command, state: 'delivering', finishedSecondsAgo: (now - (row.finishedAt ?? now)) / 1000 }));
  const queued = jobs.filter((job) => job.state === 'queued').length;
  return renderQueue({ yours: [...yours, ...undelivered], queued, running: jobs.length - queued, mode: ctx.mode.value });
}

function helpReply(ctx: BotContext, admin: boolean) {
  const commands = [...ctx.registry.commands.values()].map((definition) => ({
    name: definition.name,
    description: definition.description,
    options: definition.options.filter((o) => !o.hidden).map((o) => ({ name: o.name, description: o.description, required: o.required })),
  }));
  return renderHelp(commands, { isAdmin: admin });
}

async function cancelAll(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const mine = ctx.scheduler.jobs().filter((job) => job.owner.userId === interaction.user.id);
  for (const job of mine) ctx.cancelledBy.set(job.id, interaction.user.id);
  const results = await Promise.allSettled(mine.map((job) => ctx.scheduler.cancel(job.id, { userId: interaction.user.id, isModerator: false })));
  const cancelled = results.filter((r) => r.status === 'fulfilled' && r.value === 'cancelled').length;
  for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof CancelError)) throw r.reason;
  const content =
    mine.length === 0 ? 'You have no jobs waiting or running.' : `Cancelled ${cancelled} of your ${mine.length} job${mine.length === 1 ? '' : 's'}${cancelled < mine.length ? ' (the others had already finished)' : ''}.`;
  await interaction.editReply({ content });
}

async function comfy(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  if (!isAdmin(interaction)) {
    await interaction.reply({ ...EPHEMERAL, content: '/comfy needs the Manage Server permission.' });
    return;
  }
  if (interaction.options.getSubcommandGroup(false) === 'config') {
    await handleComfyConfig(interaction, settingsDeps(ctx));
    return;
  }
  const sub = interaction.options.getSubcommand(true);
  const backendName = interaction.options.getString('backend');
  const backend = backendName === null ? null : ctx.backends.find((b) => b.name === backendName);
  if (backend === undefined) {
    await interaction.reply({ ...EPHEMERAL, content: `There is no backend named ${backendName}; backends: ${ctx.backends.map((b) => b.name).join(', ')}.` });
    return;
  }
  const targets = backend ? [backend] : ctx.backends;
  if (sub === 'status') {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const views = await Promise.all(targets.map(statusOf));
    const queued = ctx.scheduler.jobs().filter((job) => job.state === 'queued').length;
    await interaction.editReply(renderStatus({ backends: views, mode: ctx.mode.value, queued }));
    return;
  }
  await interaction.reply({ ...EPHEMERAL, content: control(ctx, sub, backend) });
}

/** Applies pause/resume/drain to one backend or to the whole queue; returns what was done, in words. */
function control(ctx: BotContext, sub: string, backend: BackendHandle | null): string {
  const { scheduler } = ctx;
  if (backend) {
    if (sub === 'pause') scheduler.pauseBackend(backend.name);
    else if (sub === 'resume') scheduler.resumeBackend(backend.name);
    else if (sub === 'drain') void scheduler.drainBackend(backend.name).then(() => ctx.logger.info({ backend: backend.name }, 'backend drained'));
    else return `Unknown subcommand ${sub}.`;
    return `${backend.name}: ${sub === 'resume' ? 'taking jobs again' : sub === 'pause' ? 'paused (its running jobs finish)' : 'draining: no new jobs go to it'}.`;
  }
  if (sub === 'pause') {
    scheduler.pause();
    ctx.mode.value = 'paused';
    return 'Paused: jobs are still accepted but wait until /comfy resume.';
  }
  if (sub === 'resume') {
    scheduler.resume();
    ctx.mode.value = 'open';
    return 'Resumed: jobs start again.';
  }
  if (sub === 'drain') {
    const left = scheduler.jobs().length;
    ctx.mode.value = 'draining';
    void scheduler.drain().then(() => ctx.logger.info('queue drained'));
    return `Draining: no new jobs are taken; ${left} job${left === 1 ? '' : 's'} still to finish. /comfy resume takes jobs again.`;
  }
  return `Unknown subcommand ${sub}.`;
}

async function statusOf(backend: BackendHandle): Promise<BackendStatus> {
  return { ...(await classicStatusOf(backend)), api: backend.api };
}

async function classicStatusOf(backend: BackendHandle): Promise<BackendStatusView> {
  if (!backend.client) {
    // A v2 endpoint with no classic URL: only its own health probe is known.
    return backend.healthy ? { name: backend.name, up: true, running: null, pending: null } : { name: backend.name, up: false, error: 'the Comfy API v2 endpoint does not answer (see the log)' };
  }
  if (!backend.healthy) {
    const error = await backend.client.http.systemStats().then(
      () => 'reconnecting',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    return { name: backend.name, up: false, error };
  }
  try {
    const [stats, queue] = await Promise.all([backend.client.http.systemStats(), backend.client.http.queue()]);
    const gpu = stats.devices.find((d) => typeof d.vram_total === 'number' && typeof d.vram_free === 'number');
    return {
      name: backend.name,
      up: true,
      running: queue.running.length,
      pending: queue.pending.length,
      vram: gpu ? { freeBytes: gpu.vram_free!, totalBytes: gpu.vram_total! } : null,
      version: typeof stats.system.comfyui_version === 'string' ? stats.system.comfyui_version : null,
    };
  } catch (error) {
    return { name: backend.name, up: false, error: error instanceof Error ? error.message : String(error) };
  }
}
