import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applicationOwnerId, buildApplication, type ApplicationSpec } from './application.js';
import { type Clock, ManualClock, systemClock } from './clock.js';
import { type CommandScope, CommandRegistry, usableInDms } from './commands.js';
import { FaultInjector, type FaultSpec } from './faults.js';
import { FakeGateway } from './gateway.js';
import { addMemberTo, apiGuildCreate, type DmChannel, dmChannelWith, findUser, resolveRoles, shardFor, apiUser, buildGuild, type FakeGuild, type FakeMember, type FakeUser, type GuildSpec, type MemberSpec } from './guild.js';
import { botTokenFor, randomToken, SnowflakeFactory } from './ids.js';
import {
  baseInteractionPayload,
  CallbackType,
  commandData,
  customIdsIn,
  type FakeInteraction,
  InteractionType,
  type InteractionTypeValue,
  type InvocationContext,
  modalSubmitComponents,
  type OptionValue,
  type UserUpload,
} from './interactions.js';
import { currentRevision, MessageStore, type StoredMessage } from './messages.js';
import { type RateLimitConfig, RateLimiter } from './rateLimits.js';
import { FakeRest, type LoggedRequest } from './rest.js';
import { waitUntil } from './waitUntil.js';

export { Permissions } from './guild.js';
export { currentRevision, MessageFlags } from './messages.js';
export type { FakeInteraction, OptionValue, UserUpload } from './interactions.js';
export type { MessageRevision, StoredAttachment, StoredMessage } from './messages.js';
export type { FaultSpec } from './faults.js';
export type { GuildSpec, MemberSpec } from './guild.js';
export type { ApplicationSpec } from './application.js';
export type { InteractionResponseEvent, LoggedRequest } from './rest.js';

export interface FakeDiscordOptions {
  /** Drives the 3 s ack deadline, the 15 min token life and timestamps. 'manual' gives a clock moved by advance(). */
  clock?: Clock | 'manual';
  heartbeatIntervalMs?: number;
  /** Default: one guild with one text channel 'general', roles @everyone/Moderator/Member, the bot and one user. */
  guilds?: GuildSpec[];
  /** Per route family (webhook token, channel, …) fixed windows on real time. */
  rateLimits?: RateLimitConfig;
  /** Per-file upload limit in bytes, also sent as `attachment_size_limit`; default 10 MiB. */
  attachmentSizeLimit?: number;
  /** How long interaction helpers wait for a bot to be identified on the gateway; default 10 s. */
  dispatchTimeoutMs?: number;
  /** Who owns the application (GET /applications/@me): default one user, 'app-owner', in no guild. */
  application?: ApplicationSpec;
}

export interface InvokeOptions {
  /** Default: the built-in user (`discord.userId`). */
  userId?: string;
  /** Role ids or names, replacing the member's roles for this interaction only. */
  roles?: string[];
  guildId?: string;
  channelId?: string;
  /** Invoke from the user's DM with the bot (only global commands offered in DMs). */
  dm?: boolean;
}

export interface SlashOptions extends InvokeOptions {
  /** User uploads for attachment options, served at GET /attachments/:id/:name. */
  attachments?: UserUpload[];
}

export interface InteractionHandle {
  id: string;
  token: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Shown in the timeout error. */
  description?: string;
}

export interface GatewayControls {
  /** IDENTIFY payloads received (intents, shard, properties, compress, token). */
  readonly identifies: ReadonlyArray<Record<string, unknown>>;
  readonly resumes: number;
  readonly connected: boolean;
  close(code: number): void;
  reconnect(): void;
  invalidSession(): void;
  stopAcking(): void;
}

export interface FakeDiscord {
  readonly restUrl: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly guildId: string;
  readonly channelId: string;
  readonly botUserId: string;
  /** The application's owner, or its team's owner (add them to a guild with addMember to invoke commands). */
  readonly ownerId: string;
  /** Ids of the guilds the bot is in now (leaving one removes it). */
  readonly guildIds: string[];
  /** The built-in non-bot member who invokes interactions by default. */
  readonly userId: string;
  readonly events: EventEmitter;
  readonly clock: Clock;
  readonly gateway: GatewayControls;
  readonly faults: { failNext(spec: FaultSpec): void; deleteMessage(id: string): void; clear(): void };
  readonly requests: readonly LoggedRequest[];
  /** 429s returned (bucket or injected), by route template. */
  readonly rateLimitHits: Record<string, number>;
  readonly messages: StoredMessage[];
  readonly interactions: FakeInteraction[];
  message(id: string): StoredMessage | undefined;
  messagesInChannel(channelId: string): StoredMessage[];
  /** The DM channel the bot opened with a user (POST /users/@me/channels), if any. */
  dmChannelFor(userId: string): string | undefined;
  /** The message `@original` refers to for an interaction token, if it has one yet. */
  originalFor(interactionToken: string): StoredMessage | undefined;
  commands(guildId?: string): CommandScope;
  addMember(spec: MemberSpec): FakeMember;
  guild(id?: string): FakeGuild;
  /** Someone adds the bot to a new guild: it is created and GUILD_CREATE is sent to the connected bot. */
  addGuild(spec?: GuildSpec): Promise<FakeGuild>;
  /** A role's id by name ('@everyone', 'Moderator', 'Member' by default), for bot configs that list role ids. */
  roleId(name: string, guildId?: string): string;
  slash(name: string, options?: Record<string, OptionValue>, opts?: SlashOptions): Promise<InteractionHandle>;
  autocomplete(name: string, options: Record<string, OptionValue>, focused: string, opts?: InvokeOptions & { timeoutMs?: number }): Promise<unknown[]>;
  button(messageId: string, customId: string, opts?: InvokeOptions): Promise<InteractionHandle>;
  modalSubmit(customId: string, fields: Record<string, string>, opts?: InvokeOptions & { messageId?: string }): Promise<InteractionHandle>;
  /** Picks `values` in a string select menu of a message (checked against its options, min_values and max_values). */
  select(messageId: string, customId: string, values: string[], opts?: InvokeOptions): Promise<InteractionHandle>;
  /** Resolves with the predicate's first truthy result, re-checked on every request/message/interaction event. */
  waitFor<T>(predicate: (discord: FakeDiscord) => T | undefined | null | false, opts?: WaitOptions): Promise<T>;
  /** Moves the manual clock; throws unless started with clock: 'manual'. */
  advance(ms: number): void;
  close(): Promise<void>;
}

const WAKE_EVENTS = ['request', 'message-create', 'message-update', 'interaction-response', 'gateway-ready', 'resumed', 'identify'] as const;

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const clock = options.clock === 'manual' ? new ManualClock() : (options.clock ?? systemClock);
  const attachmentSizeLimit = options.attachmentSizeLimit ?? 10 * 1024 * 1024;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
  if (!(attachmentSizeLimit > 0)) throw new RangeError(`startFakeDiscord: attachmentSizeLimit must be > 0, got ${attachmentSizeLimit}`);
  if (!(heartbeatIntervalMs > 0)) throw new RangeError(`startFakeDiscord: heartbeatIntervalMs must be > 0, got ${heartbeatIntervalMs}`);
  // Built before listening so a bad configuration fails without leaving a server open.
  const limiter = new RateLimiter(options.rateLimits);
  const ids = new SnowflakeFactory();
  const events = new EventEmitter();
  events.setMaxListeners(0);

  const botUserId = ids.next();
  const applicationId = botUserId;
  const token = botTokenFor(botUserId);
  const bot: FakeUser = { id: botUserId, username: 'comfycord-test', bot: true };
  const guilds = (options.guilds ?? [{}]).map((spec) => buildGuild(spec, bot, ids, clock.now()));
  const firstGuild = guilds[0];
  const firstChannel = firstGuild?.channels[0];
  if (!firstGuild || !firstChannel) throw new Error('startFakeDiscord: needs at least one guild with at least one channel');
  const userId = ids.next();
  addMemberTo(firstGuild, { id: userId, username: 'tester', roles: ['Member'].filter((r) => firstGuild.roles.some((x) => x.name === r)) }, clock.now());
  const application = buildApplication(options.application, ids);

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const gatewayUrl = `ws://127.0.0.1:${port}/gateway`;

  const store = new MessageStore({
    ids,
    clock,
    bot,
    applicationId,
    attachmentSizeLimit,
    attachmentUrl: (id, filename) => `${origin}/attachments/${id}/${encodeURIComponent(filename)}`,
    onCreate: (message) => events.emit('message-create', message),
    onUpdate: (message) => events.emit('message-update', message),
  });
  const commands = new CommandRegistry(ids, applicationId);
  const interactionsById = new Map<string, FakeInteraction>();
  const interactionsByToken = new Map<string, FakeInteraction>();
  const faults = new FaultInjector();
  const log: LoggedRequest[] = [];
  const rateLimitHits = new Map<string, number>();
  const dmChannels = new Map<string, DmChannel>();
  const rest = new FakeRest({
    clock,
    token,
    applicationId,
    application,
    bot,
    guilds,
    onGuildLeft: (left) => {
      if (gateway.connected) gateway.dispatch('GUILD_DELETE', { id: left.id }, left.id);
    },
    store,
    commands,
    interactionsById,
    interactionsByToken,
    limiter,
    faults,
    gatewayUrl: () => gatewayUrl,
    events,
    log,
    rateLimitHits,
    dmChannels,
    newId: () => ids.next(),
    attachmentSizeLimit,
  });
  server.on('request', (req, res) => void rest.handle(req, res));

  const gateway = new FakeGateway({
    server,
    token,
    heartbeatIntervalMs,
    events,
    ready: (sessionId, shard) => ({
      v: 10,
      user: apiUser(bot),
      application: { id: applicationId, flags: 0 },
      guilds: guildsOn(shard).map((g) => ({ id: g.id, unavailable: true })),
      session_id: sessionId,
      session_type: 'normal',
      resume_gateway_url: gatewayUrl,
      shard,
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      user_settings: {},
    }),
    guildCreates: (shard) => guildsOn(shard).map((g) => ({ id: g.id, payload: apiGuildCreate(g, botUserId) })),
  });
  function guildsOn(shard: [number, number]): FakeGuild[] {
    return guilds.filter((g) => shardFor(g.id, shard[1]) === shard[0]);
  }

  function knownUser(id: string): FakeUser {
    const user = findUser(guilds, id);
    if (!user) throw new Error(`fake Discord: user ${id} is not a member of any guild; call addMember first`);
    return user;
  }

  function guild(id?: string): FakeGuild {
    const found = id === undefined ? firstGuild : guilds.find((g) => g.id === id);
    if (!found) throw new Error(`fake Discord: unknown guild ${id} (guilds: ${guilds.map((g) => g.id).join(', ')})`);
    return found;
  }

  /** Resolves who invokes where; `source` is the channel of the message a component or modal belongs to. */
  function invocation(opts: InvokeOptions, source?: { channelId: string; guildId?: string }): InvocationContext {
    const common = { applicationId, bot, attachmentSizeLimit };
    if (opts.dm === true || (source !== undefined && source.guildId === undefined)) {
      const dm = source ? dmChannels.get(source.channelId) : dmChannelWith(dmChannels, knownUser(opts.userId ?? userId), () => ids.next());
      if (!dm) throw new Error(`fake Discord: ${source?.channelId} is not a DM channel of the bot`);
      return { ...common, place: { kind: 'dm', dm } };
    }
    const g = guild(opts.guildId ?? source?.guildId);
    const channelId = opts.channelId ?? source?.channelId ?? g.channels[0]?.id;
    const channel = g.channels.find((c) => c.id === channelId);
    if (!channel) throw new Error(`fake Discord: guild ${g.id} has no channel ${channelId}`);
    const known = g.members.get(opts.userId ?? userId);
    if (!known) throw new Error(`fake Discord: user ${opts.userId} is not a member of guild ${g.id}; call addMember first`);
    const member: FakeMember = opts.roles ? { ...known, roles: resolveRoles(g, opts.roles) } : known;
    return { ...common, place: { kind: 'guild', guild: g, channel, member } };
  }

  async function dispatch(
    type: InteractionTypeValue,
    ctx: InvocationContext,
    data: Record<string, unknown>,
    extra: { sourceMessageId?: string } = {},
  ): Promise<FakeInteraction> {
    const place = ctx.place;
    const guildId = place.kind === 'guild' ? place.guild.id : undefined;
    await gateway.whenConnected(guildId, options.dispatchTimeoutMs ?? 10_000, 'INTERACTION_CREATE');
    // Created only once a bot can receive it, so waiting for a (re)connecting bot never eats into the 3 s deadline.
    const interaction: FakeInteraction = {
      id: ids.next(),
      token: `fake-${randomToken(48)}`,
      type,
      createdAt: clock.now(),
      ...(guildId === undefined ? {} : { guildId }),
      channelId: place.kind === 'guild' ? place.channel.id : place.dm.id,
      userId: place.kind === 'guild' ? place.member.user.id : place.dm.recipient.id,
      followupIds: [],
      ...extra,
    };
    const payload: Record<string, unknown> = { ...baseInteractionPayload(ctx, interaction.id, interaction.token, type), data };
    if (extra.sourceMessageId !== undefined) payload['message'] = store.toApi(store.require(extra.sourceMessageId));
    interactionsById.set(interaction.id, interaction);
    interactionsByToken.set(interaction.token, interaction);
    gateway.dispatch('INTERACTION_CREATE', payload, guildId);
    return interaction;
  }

  function findCommand(path: string, ctx: InvocationContext) {
    const root = path.split(' ')[0] ?? '';
    const guildId = ctx.place.kind === 'guild' ? ctx.place.guild.id : undefined;
    const command = commands.find(root, guildId);
    if (!command) {
      throw new Error(`fake Discord: /${root} is not registered (${guildId ? `globally or in guild ${guildId}` : 'globally'}); the bot must register it first`);
    }
    if (guildId === undefined && !usableInDms(command)) throw new Error(`fake Discord: /${root} is not offered in DMs (contexts/dm_permission)`);
    return command;
  }

  const discord: FakeDiscord = {
    restUrl: `${origin}/api`,
    gatewayUrl,
    token,
    applicationId,
    guildId: firstGuild.id,
    channelId: firstChannel.id,
    botUserId,
    ownerId: applicationOwnerId(application),
    get guildIds() {
      return guilds.map((g) => g.id);
    },
    userId,
    events,
    clock,
    gateway: {
      get identifies() {
        return gateway.identifies;
      },
      get resumes() {
        return gateway.resumes;
      },
      get connected() {
        return gateway.connected;
      },
      close: (code) => gateway.close(code),
      reconnect: () => gateway.reconnect(),
      invalidSession: () => gateway.invalidSession(),
      stopAcking: () => gateway.stopAcking(),
    },
    faults: {
      failNext: (spec) => faults.failNext(spec),
      deleteMessage: (id) => {
        if (!store.get(id)) throw new Error(`faults.deleteMessage: no message ${id}`);
        store.delete(id);
      },
      clear: () => faults.clear(),
    },
    get requests() {
      return log;
    },
    get rateLimitHits() {
      return Object.fromEntries(rateLimitHits);
    },
    get messages() {
      return store.all();
    },
    get interactions() {
      return [...interactionsById.values()];
    },
    message: (id) => store.get(id),
    messagesInChannel: (channelId) => store.all().filter((m) => m.channelId === channelId),
    dmChannelFor: (id) => [...dmChannels.values()].find((c) => c.recipient.id === id)?.id,
    originalFor: (interactionToken) => {
      const id = interactionsByToken.get(interactionToken)?.originalMessageId;
      return id === undefined ? undefined : store.get(id);
    },
    commands: (guildId) => commands.scope(guildId),
    addMember: (spec) => addMemberTo(guild(spec.guildId), spec, clock.now()),
    guild,
    async addGuild(spec = {}) {
      const added = buildGuild(spec, bot, ids, clock.now());
      guilds.push(added);
      await gateway.whenConnected(added.id, options.dispatchTimeoutMs ?? 10_000, 'GUILD_CREATE');
      gateway.dispatch('GUILD_CREATE', apiGuildCreate(added, botUserId), added.id);
      return added;
    },
    roleId: (name, guildId) => {
      const [id] = resolveRoles(guild(guildId), [name]);
      return id as string;
    },

    async slash(name, values = {}, opts = {}) {
      const ctx = invocation(opts);
      const command = findCommand(name, ctx);
      const data = commandData(command, name, values, opts.attachments ?? [], (upload) =>
        store.storeUpload(upload.name, Buffer.from(upload.bytes), upload.contentType),
      );
      const interaction = await dispatch(InteractionType.Command, ctx, data);
      return { id: interaction.id, token: interaction.token };
    },

    async autocomplete(name, values, focused, opts = {}) {
      const ctx = invocation(opts);
      const data = commandData(findCommand(name, ctx), name, values, [], () => {
        throw new Error('autocomplete cannot carry uploads');
      }, focused);
      const interaction = await dispatch(InteractionType.Autocomplete, ctx, data);
      const timeoutMs = opts.timeoutMs ?? 5000;
      const response = await waitUntil(events, ['interaction-response'], () => interaction.response, timeoutMs, () =>
        `fake Discord: autocomplete ${interaction.id} got no callback within ${timeoutMs} ms`,
      );
      return (response.data?.['choices'] as unknown[] | undefined) ?? [];
    },

    async button(messageId, customId, opts = {}) {
      const message = store.get(messageId);
      if (!message || message.deleted) throw new Error(`fake Discord: cannot click '${customId}': message ${messageId} does not exist`);
      const component = customIdsIn(currentRevision(message).components).get(customId);
      if (!component) throw new Error(`fake Discord: message ${messageId} has no component '${customId}'`);
      if (component['disabled'] === true) throw new Error(`fake Discord: component '${customId}' on ${messageId} is disabled`);
      const ctx = invocation(opts, message);
      const interaction = await dispatch(InteractionType.Component, ctx, { custom_id: customId, component_type: component['type'] }, { sourceMessageId: messageId });
      return { id: interaction.id, token: interaction.token };
    },

    async select(messageId, customId, values, opts = {}) {
      const message = store.get(messageId);
      if (!message || message.deleted) throw new Error(`fake Discord: cannot pick in '${customId}': message ${messageId} does not exist`);
      const component = customIdsIn(currentRevision(message).components).get(customId);
      if (!component || component['type'] !== 3) throw new Error(`fake Discord: message ${messageId} has no string select '${customId}'`);
      if (component['disabled'] === true) throw new Error(`fake Discord: select '${customId}' on ${messageId} is disabled`);
      const offered = new Set(((component['options'] as Record<string, unknown>[] | undefined) ?? []).map((o) => o['value']));
      const unknown = values.filter((value) => !offered.has(value));
      if (unknown.length > 0) throw new Error(`fake Discord: select '${customId}' offers no ${unknown.join(', ')}`);
      const min = (component['min_values'] as number | undefined) ?? 1;
      const max = (component['max_values'] as number | undefined) ?? 1;
      if (values.length < min || values.length > max) throw new Error(`fake Discord: select '${customId}' takes ${min} to ${max} values, got ${values.length}`);
      const ctx = invocation(opts, message);
      const interaction = await dispatch(InteractionType.Component, ctx, { custom_id: customId, component_type: 3, values }, { sourceMessageId: messageId });
      return { id: interaction.id, token: interaction.token };
    },

    async modalSubmit(customId, fields, opts = {}) {
      const opener = [...interactionsById.values()]
        .reverse()
        .find((i) => i.response?.type === CallbackType.Modal && i.response.data?.['custom_id'] === customId);
      const modal = opener?.response?.data;
      if (!opener || !modal) throw new Error(`fake Discord: no modal with custom_id '${customId}' was shown`);
      const inputs = customIdsIn(modal['components']);
      const unknown = Object.keys(fields).filter((key) => !inputs.has(key));
      if (unknown.length > 0) throw new Error(`fake Discord: modal '${customId}' has no field(s) ${unknown.join(', ')} (fields: ${[...inputs.keys()].join(', ')})`);
      const sourceMessageId = opts.messageId ?? opener.sourceMessageId;
      const ctx = invocation(opts, opener);
      const data = { custom_id: customId, components: modalSubmitComponents(modal['components'], fields) };
      const interaction = await dispatch(InteractionType.ModalSubmit, ctx, data, sourceMessageId === undefined ? {} : { sourceMessageId });
      return { id: interaction.id, token: interaction.token };
    },

    waitFor(predicate, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 5000;
      return waitUntil(events, WAKE_EVENTS, () => predicate(discord), timeoutMs, () => {
        const recent = log.slice(-5).map((r) => `${r.method} ${r.path} → ${r.status}`).join('; ') || 'none';
        return `fake Discord waitFor timed out after ${timeoutMs} ms${opts.description ? ` waiting for ${opts.description}` : ''} (last requests: ${recent})`;
      });
    },

    advance(ms) {
      if (!(clock instanceof ManualClock)) throw new Error("fake Discord: advance() needs startFakeDiscord({ clock: 'manual' })");
      clock.advance(ms);
    },

    async close() {
      await gateway.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return discord;
}
