// The built-in commands: /queue, /cancel, /help (every member, ephemeral), /comfy (a server's admins and the bot's
// operators; re-checked here because default_member_permissions only hides the command) and /settings (the policy
// room's handlers).
import { MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { moderatorRoles } from '../../policy/index.js';
import { handleShow } from '../actions/show.js';
import { handleInfo } from './info.js';
import { handleUsage } from './usage.js';
import { canAdmin, isModerator } from '../permissions.js';
import { renderHelp } from '../helpReply.js';
import { renderQueue, type QueuedJobView, type ServerJobView } from '../queueReply.js';
import { renderStatus, type BackendStatus, type BackendStatusView } from '../statusReply.js';
import { handleComfyConfig } from '../settings/guildConfig.js';
import { handleSettings } from '../settings/userSettings.js';
import { handleServerCommand } from '../serverCommands/handlers.js';
import type { SettingsDeps } from '../settings/interaction.js';
import { accessOf } from '../wiring/access.js';
import type { CancelAllOutcome } from '../wiring/canceller.js';
import { commandsIn, type BackendHandle, type BotContext } from '../wiring/context.js';
import { viewAge, type LiveJobView } from '../../cluster/job-views.js';
import type { Hold } from '../../jobs/store.js';

const EPHEMERAL = { flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;

function settingsDeps(ctx: BotContext, guildId: string | null): SettingsDeps {
  return { store: ctx.store, commands: () => commandsIn(ctx, guildId), relaxDefault: ctx.config.relax.allowed };
}

function isAdmin(interaction: ChatInputCommandInteraction): boolean {
  return canAdmin(accessOf(interaction));
}

export async function handleBuiltin(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<boolean> {
  switch (interaction.commandName) {
    case 'queue':
      await interaction.reply({ ...EPHEMERAL, ...queueReply(ctx, interaction) });
      return true;
    case 'cancel':
      await cancelAll(ctx, interaction);
      return true;
    case 'help':
      await interaction.reply({ ...EPHEMERAL, ...helpReply(ctx, isAdmin(interaction), interaction.guildId) });
      return true;
    case 'comfy':
      await comfy(ctx, interaction);
      return true;
    case 'settings':
      await handleSettings(interaction, settingsDeps(ctx, interaction.guildId));
      return true;
    case 'show':
      await handleShow(ctx, interaction);
      return true;
    case 'info':
      await handleInfo(ctx, interaction);
      return true;
    default:
      return false;
  }
}

function queueReply(ctx: BotContext, interaction: ChatInputCommandInteraction) {
  const userId = interaction.user.id;
  const guildId = interaction.guildId;
  const now = Date.now();
  const holds = ctx.holds.sync();
  const { jobs, origin } = ctx.queue.snapshot();
  const place = (job: LiveJobView) => (job.place === null ? null : job.place.global + 1);
  const yours: QueuedJobView[] = jobs
    .filter((job) => job.ownerId === userId)
    .map((job) => {
      if (job.state === 'queued') {
        const etaAt = job.place?.etaAt ?? null;
        return { jobId: job.id, command: job.command, state: 'queued', position: place(job), etaSeconds: etaAt === null ? null : Math.max(0, etaAt - now) / 1000 };
      }
      return { jobId: job.id, command: job.command, state: 'running', elapsedSeconds: Math.max(0, now - (job.since ?? now)) / 1000 };
    });
  const undelivered: QueuedJobView[] = ctx.store
    .pendingDeliveries()
    .filter((row) => row.ownerId === userId)
    .map((row) => {
      const finishedAt = row.finishedAt ?? now;
      const givesUpAt = finishedAt + ctx.config.jobs.deliveryHours * 3_600_000;
      return { jobId: row.id, command: row.command, state: 'delivering', finishedSecondsAgo: (now - finishedAt) / 1000, givesUpInSeconds: (givesUpAt - now) / 1000 };
    });
  const queued = jobs.filter((job) => job.state === 'queued').length;
  // A server's admins see their server's jobs (whose, which command); other servers' never.
  const server: ServerJobView[] | undefined =
    guildId !== null && isServerAdmin(ctx, interaction)
      ? jobs
          .filter((job) => job.guildId === guildId)
          .map((job) =>
            job.state === 'queued'
              ? { ownerId: job.ownerId, command: job.command, state: 'queued', position: place(job) }
              : { ownerId: job.ownerId, command: job.command, state: 'running' },
          )
      : undefined;
  const serverMode = guildId === null ? 'open' : (holds.guilds.get(guildId) ?? 'open');
  const age = viewAge(origin, now);
  return renderQueue({
    yours: [...yours, ...undelivered],
    queued,
    running: jobs.length - queued,
    mode: holds.bot ?? 'open',
    serverMode,
    ...(server ? { server } : {}),
    ...(age !== null ? { viewAge: age } : {}),
  });
}

function helpReply(ctx: BotContext, admin: boolean, guildId: string | null) {
  const commands = [...commandsIn(ctx, guildId).values()].map((definition) => ({
    name: definition.name,
    description: definition.description,
    options: definition.options.filter((o) => !o.hidden).map((o) => ({ name: o.name, description: o.description, required: o.required })),
  }));
  return renderHelp(commands, { isAdmin: admin });
}

async function cancelAll(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  await interaction.editReply({ content: cancelAllAnswer(await ctx.canceller.cancelAllOf(interaction.user.id)) });
}

export function cancelAllAnswer(outcome: CancelAllOutcome): string {
  const { found } = outcome;
  const jobs = `${found} job${found === 1 ? '' : 's'}`;
  if (found === 0) return 'You have no jobs waiting or running.';
  if (outcome.kind === 'ended') {
    return `Cancelled ${outcome.cancelled} of your ${jobs}${outcome.cancelled < found ? ' (the others had already finished)' : ''}.`;
  }
  return outcome.leaderUp
    ? `Cancelling your ${jobs}: ${found === 1 ? 'its card says' : 'their cards say'} so once stopped.`
    : `Cancel recorded for your ${jobs}: ${found === 1 ? 'it stops' : 'they stop'} as soon as the bot's leader picks ${found === 1 ? 'it' : 'them'} up.`;
}

/**
 * `/comfy`. Two kinds of power: a server's admins (Manage Server or a moderator role) hold, resume or drain their
 * own server's jobs and see the backends' health; the bot's operators also act on the whole bot and on each
 * backend, and see why a backend is down (errors carry its address).
 */
async function comfy(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  if (interaction.options.getSubcommandGroup(false) === 'config') {
    if (!isAdmin(interaction)) {
      await interaction.reply({ ...EPHEMERAL, content: "Only members with the Manage Server permission can change this server's settings." });
      return;
    }
    await handleComfyConfig(interaction, settingsDeps(ctx, interaction.guildId));
    return;
  }
  const sub = interaction.options.getSubcommand(true);
  const operator = ctx.operators.has(interaction.user.id);
  if (interaction.options.getSubcommandGroup(false) === 'command') {
    if (!isServerAdmin(ctx, interaction)) {
      await interaction.reply({ ...EPHEMERAL, content: "Only this server's admins (Manage Server or a moderator role) can manage its commands." });
      return;
    }
    await handleServerCommand(ctx, interaction);
    return;
  }
  if (!operator && !isServerAdmin(ctx, interaction)) {
    await interaction.reply({ ...EPHEMERAL, content: `Only this server's admins (Manage Server or a moderator role) and the bot's operators can use /comfy ${sub}.` });
    return;
  }
  if (sub === 'usage') {
    await handleUsage(ctx, interaction, operator);
    return;
  }
  const backendName = interaction.options.getString('backend');
  const everywhere = interaction.options.getBoolean('everywhere') === true;
  if (sub !== 'status' && !operator && (backendName !== null || everywhere)) {
    const what = backendName !== null ? 'a backend' : 'the whole bot';
    await interaction.reply({ ...EPHEMERAL, content: `Only the bot's operators can ${sub} ${what}; /comfy ${sub} without options acts on this server's jobs.` });
    return;
  }
  const backend = backendName === null ? null : ctx.backends.find((b) => b.name === backendName);
  if (backend === undefined) {
    await interaction.reply({ ...EPHEMERAL, content: `There is no backend named ${backendName}; backends: ${ctx.backends.map((b) => b.name).join(', ')}.` });
    return;
  }
  if (sub === 'status') {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const holds = ctx.holds.sync();
    const { jobs, backendsUp, origin } = ctx.queue.snapshot();
    const views = await Promise.all((backend ? [backend] : ctx.backends).map((b) => statusOf(b, backendsUp.get(b.name) === true, operator)));
    const queued = jobs.filter((job) => job.state === 'queued').length;
    const server = interaction.guildId === null ? 'open' : (holds.guilds.get(interaction.guildId) ?? 'open');
    const now = Date.now();
    const cluster = operator && ctx.config.databaseUrl !== undefined ? { processes: ctx.store.processes(), lease: ctx.store.currentLease(), now } : undefined;
    const age = viewAge(origin, now);
    await interaction.editReply(
      renderStatus({ backends: views, mode: holds.bot ?? 'open', queued, server, ...(cluster ? { cluster } : {}), ...(age !== null ? { viewAge: age } : {}) }),
    );
    return;
  }
  let content: string;
  if (backend) content = controlBackend(ctx, sub, backend);
  else if (everywhere || interaction.guildId === null) content = controlBot(ctx, sub);
  else content = controlServer(ctx, sub, interaction.guildId);
  ctx.logger.info({ user: interaction.user.id, guild: interaction.guildId, sub, backend: backend?.name ?? null, everywhere }, '/comfy control');
  await interaction.reply({ ...EPHEMERAL, content });
}

/** Manage Server, or one of the moderator roles (configured, or this server's own). */
function isServerAdmin(ctx: BotContext, interaction: ChatInputCommandInteraction): boolean {
  if (interaction.guildId === null) return false;
  const roles = moderatorRoles(ctx.config.discord.moderatorRoles, ctx.store.guildSettings(interaction.guildId));
  return isModerator(accessOf(interaction), { moderatorRoles: roles });
}

/** What `/comfy pause|drain|resume` asks for; undefined for a subcommand that is none of them. */
function holdOf(sub: string): Hold | null | undefined {
  return sub === 'pause' ? 'paused' : sub === 'drain' ? 'draining' : sub === 'resume' ? null : undefined;
}

/** Pause, resume or drain one backend (operators). */
function controlBackend(ctx: BotContext, sub: string, backend: BackendHandle): string {
  const hold = holdOf(sub);
  if (hold === undefined) return `Unknown subcommand ${sub}.`;
  ctx.holds.set({ kind: 'backend', name: backend.name }, hold);
  return `${backend.name}: ${hold === null ? 'taking jobs again' : hold === 'paused' ? 'paused (its running jobs finish)' : 'draining: no new jobs go to it'}.`;
}

/** Pause, resume or drain the whole bot, every server (operators). */
function controlBot(ctx: BotContext, sub: string): string {
  const hold = holdOf(sub);
  if (hold === undefined) return `Unknown subcommand ${sub}.`;
  ctx.holds.set({ kind: 'bot' }, hold);
  if (hold === 'paused') return 'Paused everywhere: jobs are still accepted but wait until /comfy resume everywhere:True.';
  if (hold === null) return 'Resumed everywhere: jobs start again.';
  const left = ctx.queue.snapshot().jobs.length;
  return `Draining everywhere: no new jobs are taken; ${left} job${left === 1 ? '' : 's'} still to finish. /comfy resume everywhere:True takes jobs again.`;
}

/** Pause, resume or drain this server's jobs only (its admins); kept in its settings so it outlives a restart. */
function controlServer(ctx: BotContext, sub: string, guildId: string): string {
  const hold = holdOf(sub);
  if (hold === undefined) return `Unknown subcommand ${sub}.`;
  ctx.holds.set({ kind: 'guild', guildId }, hold);
  const left = ctx.queue.snapshot().jobs.filter((job) => job.guildId === guildId).length;
  const jobs = `${left} job${left === 1 ? '' : 's'} from this server`;
  if (hold === 'paused') return `Paused for this server: its jobs are still accepted but wait until /comfy resume (${jobs}). Other servers are not affected.`;
  if (hold === 'draining') return `Draining this server: no new jobs from it are taken; ${jobs} still to finish. /comfy resume takes jobs again.`;
  return "Resumed for this server: its jobs start again.";
}

/** A backend's health and API kind; why it is down only for operators (the error names its address). */
async function statusOf(backend: BackendHandle, up: boolean, operator: boolean): Promise<BackendStatus> {
  const view = await probe(backend, up);
  if (view.up || operator) return { ...view, api: backend.api };
  return { name: view.name, up: false, api: backend.api };
}

/** `up` is the leader's word (this process's own backends, or the leader's view on a standby); the details are asked here. */
async function probe(backend: BackendHandle, up: boolean): Promise<BackendStatusView> {
  if (!backend.client) {
    // A v2 endpoint with no classic URL: only its own health probe is known.
    return up ? { name: backend.name, up: true, running: null, pending: null } : { name: backend.name, up: false, error: 'the Comfy API v2 endpoint does not answer (see the log)' };
  }
  if (!up) {
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
