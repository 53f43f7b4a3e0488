import { apiChannel, apiDmChannel, apiMember, apiUser, type DmChannel, type FakeChannel, type FakeGuild, type FakeMember, type FakeUser, permissionsIn } from './guild.js';
import { apiAttachment, type StoredAttachment } from './messages.js';

type Json = Record<string, unknown>;

export const InteractionType = { Command: 2, Component: 3, Autocomplete: 4, ModalSubmit: 5 } as const;
export type InteractionTypeValue = (typeof InteractionType)[keyof typeof InteractionType];

export const CallbackType = {
  ChannelMessage: 4,
  DeferredChannelMessage: 5,
  DeferredUpdate: 6,
  UpdateMessage: 7,
  AutocompleteResult: 8,
  Modal: 9,
} as const;

/** Which callback types Discord accepts for which interaction type. */
export const ALLOWED_CALLBACKS: Record<InteractionTypeValue, readonly number[]> = {
  [InteractionType.Command]: [4, 5, 9],
  [InteractionType.Component]: [4, 5, 6, 7, 9],
  [InteractionType.Autocomplete]: [8],
  [InteractionType.ModalSubmit]: [4, 5, 6, 7],
};

export const ACK_DEADLINE_MS = 3_000;
export const TOKEN_LIFETIME_MS = 15 * 60_000;

export interface FakeInteraction {
  id: string;
  token: string;
  type: InteractionTypeValue;
  createdAt: number;
  /** Absent for interactions in a DM with the bot. */
  guildId?: string;
  channelId: string;
  userId: string;
  /** The message a component (or a modal opened from one) sits on; 6/7 edit it. */
  sourceMessageId?: string;
  /** The callback type that acknowledged it, once acknowledged. */
  response?: { type: number; data: Json | undefined; at: number };
  /** What `@original` refers to: the reply created by 4/5, or the source message after 6/7. */
  originalMessageId?: string;
  followupIds: string[];
}

export type OptionValue = string | number | boolean;

export interface UserUpload {
  name: string;
  bytes: Buffer | Uint8Array;
  contentType: string;
  /** The attachment option to fill; default: the next attachment option not given in `options`. */
  option?: string;
}

/** Where an interaction happens: a guild channel, as a member, or the user's DM with the bot. */
export type InteractionPlace =
  | { kind: 'guild'; guild: FakeGuild; channel: FakeChannel; member: FakeMember }
  | { kind: 'dm'; dm: DmChannel };

export interface InvocationContext {
  applicationId: string;
  place: InteractionPlace;
  bot: FakeUser;
  attachmentSizeLimit: number;
}

/** What a bot may do in a DM: no guild roles apply. */
const DM_APP_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 14n) | (1n << 15n) | (1n << 16n);

/** The fields every interaction needs or discord.js throws while building it (discord-notes §1.6). */
export function baseInteractionPayload(ctx: InvocationContext, id: string, token: string, type: number): Json {
  const common = {
    id,
    application_id: ctx.applicationId,
    type,
    token,
    version: 1,
    locale: 'en-US',
    entitlements: [],
    attachment_size_limit: ctx.attachmentSizeLimit,
  };
  const place = ctx.place;
  if (place.kind === 'dm') {
    return {
      ...common,
      channel_id: place.dm.id,
      channel: apiDmChannel(place.dm),
      user: apiUser(place.dm.recipient),
      app_permissions: DM_APP_PERMISSIONS.toString(),
      // A guild-installed app used from its own DM: Discord reports the guild-install owner as "0".
      authorizing_integration_owners: { '0': '0' },
      context: 1,
    };
  }
  const { guild, channel, member } = place;
  const botMember = guild.members.get(ctx.bot.id);
  const appPermissions = botMember ? permissionsIn(guild, botMember, channel) : 0n;
  const memberPermissions = member.permissionsOverride ?? permissionsIn(guild, member, channel);
  return {
    ...common,
    guild_id: guild.id,
    guild: { id: guild.id, locale: 'en-US', features: [] },
    guild_locale: 'en-US',
    channel_id: channel.id,
    channel: apiChannel(channel, ctx.bot.id),
    member: apiMember(member, memberPermissions),
    app_permissions: appPermissions.toString(),
    authorizing_integration_owners: { '0': guild.id },
    context: 0,
  };
}

const OptionTypes = { Subcommand: 1, SubcommandGroup: 2, String: 3, Integer: 4, Boolean: 5, Number: 10, Attachment: 11 } as const;

function checkValue(where: string, definition: Json, value: unknown): void {
  const type = definition['type'];
  const ok =
    type === OptionTypes.Integer
      ? Number.isInteger(value)
      : type === OptionTypes.Number
        ? typeof value === 'number'
        : type === OptionTypes.Boolean
          ? typeof value === 'boolean'
          : typeof value === 'string';
  if (!ok) throw new Error(`${where}: option '${String(definition['name'])}' (type ${String(type)}) cannot take ${JSON.stringify(value)}`);
}

/**
 * Builds `data` for a chat-input or autocomplete interaction from the registered definition, so option types and
 * names are checked against what the bot actually registered. `path` is 'cmd', 'cmd sub' or 'cmd group sub'.
 */
export function commandData(
  command: Json,
  path: string,
  values: Record<string, OptionValue>,
  uploads: UserUpload[],
  storeUpload: (upload: UserUpload) => StoredAttachment,
  focused?: string,
): Json {
  const where = focused === undefined ? `slash /${path}` : `autocomplete /${path}`;
  const [, ...subPath] = path.split(' ');
  let definitions = (command['options'] as Json[] | undefined) ?? [];
  const wrappers: Json[] = [];
  for (const name of subPath) {
    const sub = definitions.find((d) => d['name'] === name && (d['type'] === OptionTypes.Subcommand || d['type'] === OptionTypes.SubcommandGroup));
    if (!sub) throw new Error(`${where}: '${name}' is not a registered subcommand`);
    wrappers.push({ name, type: sub['type'] });
    definitions = (sub['options'] as Json[] | undefined) ?? [];
  }

  const options: Json[] = [];
  for (const [name, value] of Object.entries(values)) {
    const definition = definitions.find((d) => d['name'] === name);
    if (!definition) throw new Error(`${where}: no option '${name}' (registered: ${definitions.map((d) => d['name']).join(', ') || 'none'})`);
    if (name === focused) {
      options.push({ name, type: definition['type'], value: String(value), focused: true });
      continue;
    }
    checkValue(where, definition, value);
    options.push({ name, type: definition['type'], value });
  }
  if (focused !== undefined && !(focused in values)) {
    const definition = definitions.find((d) => d['name'] === focused);
    if (!definition) throw new Error(`${where}: no option '${focused}' to focus`);
    options.push({ name: focused, type: definition['type'], value: '', focused: true });
  }

  const stored: StoredAttachment[] = [];
  for (const upload of uploads) {
    const free = definitions.find(
      (d) => d['type'] === OptionTypes.Attachment && (upload.option ?? d['name']) === d['name'] && !options.some((o) => o['name'] === d['name']),
    );
    if (!free) throw new Error(`${where}: no free attachment option for upload '${upload.name}'${upload.option ? ` (asked for '${upload.option}')` : ''}`);
    const attachment = storeUpload(upload);
    stored.push(attachment);
    options.push({ name: free['name'], type: OptionTypes.Attachment, value: attachment.id });
  }

  if (focused === undefined) {
    const missing = definitions.filter((d) => d['required'] === true && !options.some((o) => o['name'] === d['name']));
    if (missing.length > 0) throw new Error(`${where}: required option(s) missing: ${missing.map((d) => d['name']).join(', ')}`);
  }

  let nested: Json[] = options;
  for (const wrapper of wrappers.reverse()) nested = [{ ...wrapper, options: nested }];
  const data: Json = {
    id: command['id'],
    name: command['name'],
    type: 1,
    ...(command['guild_id'] ? { guild_id: command['guild_id'] } : {}),
    options: nested,
  };
  if (stored.length > 0) {
    data['resolved'] = {
      attachments: Object.fromEntries(stored.map((a) => [a.id, { ...apiAttachment(a), ephemeral: true }])),
    };
  }
  return data;
}

/** Collects the custom_ids of every component in a message or modal, however deeply nested (rows, labels). */
export function customIdsIn(components: unknown): Map<string, Json> {
  const found = new Map<string, Json>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const component = node as Json;
    if (typeof component['custom_id'] === 'string') found.set(component['custom_id'], component);
    walk(component['components']);
    walk(component['component']);
  };
  walk(components);
  return found;
}

/** Modal submit `data.components`, mirroring the modal's layout: legacy action rows or (newer) label components. */
export function modalSubmitComponents(modalComponents: unknown, fields: Record<string, string>): Json[] {
  const rows = Array.isArray(modalComponents) ? (modalComponents as Json[]) : [];
  return rows.map((row) => {
    if (row['type'] === 18) {
      const inner = row['component'] as Json;
      return { type: 18, component: { type: inner['type'], custom_id: inner['custom_id'], value: fields[String(inner['custom_id'])] ?? '' } };
    }
    const children = Array.isArray(row['components']) ? (row['components'] as Json[]) : [];
    return {
      type: 1,
      components: children.map((child) => ({ type: child['type'], custom_id: child['custom_id'], value: fields[String(child['custom_id'])] ?? '' })),
    };
  });
}
