// One job card = one message. This turns a plain-data view of the job into message options that discord.js sends
// as they are (editReply, channel.send, message.edit), within every Discord limit whatever the text inside.
import {
  ButtonStyle,
  type APIMessageComponentEmoji,
  ComponentType,
  escapeMarkdown,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
  type APIEmbedField,
} from 'discord.js';
import type { ActionDefinition } from '../templates/definition.js';
import { encodeCustomId } from './customIds.js';
import { fitEmbed, truncate } from './embedLimits.js';

export type PreviewImageMime = 'image/webp' | 'image/jpeg' | 'image/png';
export interface PreviewImage {
  bytes: Buffer;
  mime: PreviewImageMime;
}

/**
 * An outage the card tells its owner about; the job itself is fine. `away`: its ComfyUI server stopped answering and
 * the job resumes when it is back. `waiting`: every server able to run it is down; it waits at most `upToSeconds`.
 * `resumed`: the job's server was lost and it was submitted again, on another server when `moved`; shown until the
 * job reports progress there. `leader-lost`: the process that runs the jobs died; a standby says so until the one
 * that takes over continues the card (several processes sharing PostgreSQL).
 */
export type CardOutage = { kind: 'away' } | { kind: 'waiting'; upToSeconds: number } | { kind: 'resumed'; moved: boolean } | { kind: 'leader-lost' };

export type CardState =
  | { kind: 'queued'; position: number; of: number; etaSeconds?: number | null; held?: boolean; outage?: CardOutage | null }
  | {
      kind: 'running';
      outage?: CardOutage | null;
      elapsedSeconds: number;
      /** Expected time left from the command's average run time; absent when unknown or already overrun. */
      leftSeconds?: number | null;
      step?: { value: number; max: number } | null;
      nodes?: { done: number; total: number } | null;
      nodeTitle?: string | null;
      /** The latest preview, already re-encoded small; every running edit re-attaches it under one name. */
      preview?: PreviewImage | null;
    }
  | {
      kind: 'succeeded';
      /** e.g. "4 images" */
      summary: string;
      /** Re-encodings, files that could not be attached, etc.: shown, never dropped. */
      notes: readonly string[];
      elapsedSeconds?: number | null;
      /** The job's GPU time (execution × the backend's cost weight), when measured. */
      gpuSeconds?: number | null;
      /** Name of a delivered image (png/jpeg/webp/gif) attached to the same message, shown as the embed image. */
      imageName?: string | null;
      /** How many image outputs the job has: per-output actions get a button for each. */
      outputCount?: number;
      /** The card shows them as one numbered grid: U1-UN (each image on its own message) and Files (the originals). */
      grid?: boolean;
      /** A message for one image of the job (a grid's U<n>): per-output actions only for that image. */
      onlyOutput?: number;
    }
  | { kind: 'failed'; message: string }
  /** `byUserId` null: cancelled by the bot itself (shutdown, drain, time limit). */
  | { kind: 'cancelled'; byUserId: string | null };

export type ParamValue = string | number | bigint | boolean | null;

/** A follow-up button as the card shows it (the command file's action). */
export type CardAction = Pick<ActionDefinition, 'name' | 'label' | 'emoji' | 'style' | 'per'>;

/** The job this one was made from, linked on the card. */
export interface CardParent {
  /** The parent card's message link, or null when its card is unknown. */
  url: string | null;
  /** Null when the parent is no longer in the store (pruned). */
  command: string | null;
  /** The parent's output the action used (1-based). */
  output: number | null;
}

export interface CardView {
  jobId: string;
  ownerId: string;
  command: string;
  /**
   * The param that is the prompt: shown as the card's text rather than as a field, and what the Edit button
   * changes. Absent for commands without a prompt (then no Edit button).
   */
  promptKey?: string | null;
  /** The values that reproduce the job, including the seed actually used. */
  params: Readonly<Record<string, ParamValue>>;
  state: CardState;
  /** Ephemeral cards get no Delete button: the user dismisses them. */
  ephemeral?: boolean;
  /** Ping the owner (a fresh message posted in the channel, where they would not otherwise notice). */
  mentionOwner?: boolean;
  /** Follow-up buttons once the job succeeded, from the command file. */
  actions?: readonly CardAction[];
  parent?: CardParent | null;
  /** The job runs in relax mode (after every fast job; its GPU time not counted in the fast quota): said on the card. */
  relax?: boolean;
}

export interface CardFile {
  name: string;
  attachment: Buffer;
}

export interface CardPayload {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponentWithCustomId>[];
  files?: CardFile[];
  /** `[]` whenever no preview is attached: an earlier preview is removed; files sent alongside are kept. */
  attachments?: [];
  allowedMentions?: { users: string[]; parse: [] };
}

const COLORS = {
  queued: 0x99aab5,
  running: 0x5865f2,
  succeeded: 0x57f287,
  failed: 0xed4245,
  cancelled: 0x4f545c,
} as const satisfies Record<CardState['kind'], number>;

const TITLES = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
} as const satisfies Record<CardState['kind'], string>;

const PROMPT_MAX = 1800;
const RELAX_LINE = '🐢 Relax mode: runs when no fast job waits; not counted in your fast time';
const MESSAGE_MAX = 1500;
const BUTTONS_PER_ROW = 5;
const MAX_ROWS = 5;
const LABEL_MAX = 80;

function previewFileName(mime: PreviewImageMime): string {
  return mime === 'image/webp' ? 'preview.webp' : mime === 'image/png' ? 'preview.png' : 'preview.jpg';
}

/** `▰▰▰▱▱▱ 12/20`; tolerates nonsense (max 0, value beyond max, NaN) instead of throwing mid-job. */
export function progressBar(value: number, max: number, width = 12): string {
  const safeMax = Number.isFinite(max) && max > 0 ? max : 0;
  const safeValue = Number.isFinite(value) ? Math.min(Math.max(value, 0), safeMax) : 0;
  const filled = safeMax === 0 ? 0 : Math.round((safeValue / safeMax) * width);
  return `${'▰'.repeat(filled)}${'▱'.repeat(width - filled)} ${Math.round(safeValue)}/${Math.round(safeMax)}`;
}

export function formatDuration(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line, no code-span breakouts, within `max`. */
function inlineCode(value: string, max: number): string {
  const clean = value.replace(/`/g, 'ˋ').replace(/\s+/g, ' ');
  return `\`${truncate(clean || ' ', max - 2)}\``;
}

/** "10 min", "90s", "1h 30m". */
function describeWait(seconds: number): string {
  return seconds % 60 === 0 && seconds < 3600 ? `${seconds / 60} min` : formatDuration(seconds);
}

function outageLine(outage: CardOutage): string {
  switch (outage.kind) {
    case 'away':
      return '⚠️ ComfyUI went away: the job will resume when it is back';
    case 'waiting':
      return `⚠️ Waiting for a ComfyUI server to come back (up to ${describeWait(outage.upToSeconds)})`;
    case 'resumed':
      return outage.moved ? '↪️ ComfyUI went away: the job moved to another backend' : '🔄 ComfyUI came back without the job: it was submitted again';
    case 'leader-lost':
      return '⚠️ The bot lost its leader process: the job will resume in a few seconds';
  }
}

function statusLines(view: CardView): string[] {
  const state = view.state;
  switch (state.kind) {
    case 'queued': {
      if (state.outage) {
        const place = state.position > 1 ? [`Position ${state.position} of ${Math.max(state.of, state.position)}`] : [];
        return [outageLine(state.outage), ...place];
      }
      const where = state.position <= 1 ? 'next in line' : `position ${state.position} of ${Math.max(state.of, state.position)}`;
      if (state.held) return [`⏸️ Waiting: this server's admins have paused its jobs (position ${state.position} of ${Math.max(state.of, state.position)})`];
      const eta = state.etaSeconds != null ? ` · starts in about ${formatDuration(state.etaSeconds)}` : '';
      return [`⏳ Queued: ${where}${eta}`];
    }
    case 'running': {
      const lines: string[] = state.outage ? [outageLine(state.outage)] : [];
      if (state.step) lines.push(`Steps  ${progressBar(state.step.value, state.step.max)}`);
      if (state.nodes) lines.push(`Nodes  ${progressBar(state.nodes.done, state.nodes.total)}`);
      if (state.nodeTitle) lines.push(`Now: ${escapeMarkdown(truncate(state.nodeTitle, 100))}`);
      const left = state.leftSeconds != null && state.leftSeconds >= 1 ? ` · about ${formatDuration(state.leftSeconds)} left` : '';
      lines.push(`Elapsed ${formatDuration(state.elapsedSeconds)}${left}`);
      return lines;
    }
    case 'succeeded': {
      const took = state.elapsedSeconds != null ? ` in ${formatDuration(state.elapsedSeconds)}` : '';
      const gpu = state.gpuSeconds != null ? ` · GPU time ${formatDuration(state.gpuSeconds)}` : '';
      return [`✅ ${escapeMarkdown(truncate(state.summary, 200))}${took}${gpu}`];
    }
    case 'failed':
      return [`❌ ${escapeMarkdown(truncate(state.message, MESSAGE_MAX))}`];
    case 'cancelled':
      return [state.byUserId ? `🚫 Cancelled by <@${state.byUserId}>` : '🚫 Cancelled by the bot'];
  }
}

function paramFields(params: Readonly<Record<string, ParamValue>>, promptKey: string | null | undefined): APIEmbedField[] {
  return Object.entries(params)
    .filter(([name]) => name !== promptKey)
    .map(([name, value]) => ({
    name: truncate(name, 256),
    value: inlineCode(value === null ? 'none' : String(value), 1024),
    inline: true,
  }));
}

type Style = ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success | ButtonStyle.Danger;

const STYLES = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
} as const satisfies Record<CardAction['style'], Style>;

function button(customId: string, label: string, style: Style, emoji?: string): APIButtonComponentWithCustomId {
  const parsed = emoji === undefined ? undefined : buttonEmoji(emoji);
  return { type: ComponentType.Button, custom_id: customId, label: truncate(label, LABEL_MAX), style, ...(parsed && { emoji: parsed }) };
}

/** A Unicode emoji as it is, or a custom one written `<:name:id>` (`<a:name:id>` when animated). */
function buttonEmoji(emoji: string): APIMessageComponentEmoji {
  const custom = /^<(a?):(\w{2,32}):(\d{17,20})>$/.exec(emoji);
  if (!custom) return { name: emoji };
  return { name: custom[2] as string, id: custom[3] as string, ...(custom[1] === 'a' && { animated: true }) };
}

/**
 * `{n}` in a label is the image's number; a per-output label without it gets the number appended ("Upscale 2"),
 * a per-image label is used as it is.
 */
function outputLabel(label: string, n: number, per: CardAction['per']): string {
  if (label.includes('{n}')) return label.replaceAll('{n}', String(n));
  return per === 'output' ? `${label} ${n}` : label;
}

function rows(buttons: APIButtonComponentWithCustomId[]): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const result: APIActionRowComponent<APIButtonComponentWithCustomId>[] = [];
  for (let i = 0; i < buttons.length; i += BUTTONS_PER_ROW) {
    result.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + BUTTONS_PER_ROW) });
  }
  return result;
}

function components(view: CardView): CardPayload['components'] {
  const { jobId, state } = view;
  if (state.kind === 'queued' || state.kind === 'running') {
    return rows([button(encodeCustomId({ kind: 'button', jobId, action: 'cancel' }), 'Cancel', ButtonStyle.Danger)]);
  }
  if (state.kind !== 'succeeded') return [];
  const declared = view.actions ?? [];
  const perJob = declared
    .filter((action) => action.per === 'job')
    .map((action) => button(encodeCustomId({ kind: 'button', jobId, action: 'run', name: action.name }), action.label, STYLES[action.style], action.emoji));
  if (state.grid) perJob.push(button(encodeCustomId({ kind: 'button', jobId, action: 'files' }), 'Files', ButtonStyle.Secondary, '📎'));
  if (!view.ephemeral) perJob.push(button(encodeCustomId({ kind: 'button', jobId, action: 'delete' }), 'Delete', ButtonStyle.Danger));
  // One row per per-output action, one button per image (a row holds 5).
  const count = Math.min(Math.max(Math.floor(state.outputCount ?? 0), 0), BUTTONS_PER_ROW);
  const imageButton = (action: CardAction, n: number) =>
    button(encodeCustomId({ kind: 'button', jobId, action: 'run', name: action.name, index: n }), outputLabel(action.label, n, action.per), STYLES[action.style], action.emoji);
  const single = state.onlyOutput ?? (count === 1 ? 1 : null);
  if (single !== null) {
    // One image shown: its per-output and per-image buttons, five to a row.
    const forImage = declared.filter((action) => action.per !== 'job').map((action) => imageButton(action, single));
    return [...rows(perJob), ...rows(forImage)].slice(0, MAX_ROWS);
  }
  if (count === 0) return rows(perJob);
  // A batch: U1-UN on a grid, then a numbered row per per-output action (per-image actions wait for U<n>).
  const numbers = Array.from({ length: count }, (_, i) => i + 1);
  const row = (make: (n: number) => APIButtonComponentWithCustomId) => ({ type: ComponentType.ActionRow as const, components: numbers.map(make) });
  const picks = state.grid ? [row((n) => button(encodeCustomId({ kind: 'button', jobId, action: 'pick', index: n }), `U${n}`, ButtonStyle.Secondary))] : [];
  const perOutput = declared.filter((action) => action.per === 'output').map((action) => row((n) => imageButton(action, n)));
  return [...rows(perJob), ...picks, ...perOutput].slice(0, MAX_ROWS);
}

function parentLine(parent: CardParent): string {
  const which = parent.output === null ? '' : ` (image ${parent.output})`;
  if (parent.command === null) return '↪️ Variation of an earlier job';
  const what = `/${escapeMarkdown(parent.command)}${which}`;
  return parent.url === null ? `↪️ Variation of ${what}` : `↪️ Variation of [${what}](${parent.url})`;
}

export function renderCard(view: CardView): CardPayload {
  const { state } = view;
  const prompt = view.promptKey != null ? view.params[view.promptKey] : null;
  const description = [
    ...(view.parent ? [parentLine(view.parent)] : []),
    ...(prompt != null && prompt !== '' ? [`>>> ${escapeMarkdown(truncate(String(prompt), PROMPT_MAX))}`, ''] : []),
    ...statusLines(view),
    ...(view.relax ? [RELAX_LINE] : []),
  ].join('\n');

  const fields: APIEmbedField[] = [];
  if (state.kind === 'succeeded' && state.notes.length > 0) {
    fields.push({ name: 'Notes', value: state.notes.map((note) => `• ${escapeMarkdown(truncate(note, 300))}`).join('\n') });
  }
  fields.push(...paramFields(view.params, view.promptKey));

  const embed: APIEmbed = {
    title: `/${view.command} · ${TITLES[state.kind]}`,
    description,
    color: COLORS[state.kind],
    footer: { text: `job ${view.jobId}` },
    ...(fields.length > 0 ? { fields } : {}),
  };

  const payload: CardPayload = { embeds: [], components: components(view) };
  if (state.kind === 'running' && state.preview) {
    const name = previewFileName(state.preview.mime);
    embed.image = { url: `attachment://${name}` };
    payload.files = [{ name, attachment: state.preview.bytes }];
  }
  if (state.kind === 'succeeded' && state.imageName) embed.image = { url: `attachment://${state.imageName}` };
  // An edit without files keeps the message's attachments: a card back in the queue after a lost backend would
  // still carry the old run's preview. Every state without a preview clears them (files sent alongside stay).
  if (!payload.files) payload.attachments = [];
  payload.embeds = [fitEmbed(embed)];
  if (view.mentionOwner) {
    payload.content = `<@${view.ownerId}>`;
    payload.allowedMentions = { users: [view.ownerId], parse: [] };
  }
  return payload;
}
