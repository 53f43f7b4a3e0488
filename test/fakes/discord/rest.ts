import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { maxRequestBytes, parseBody, readRaw, type UploadedFile } from './body.js';
import { apiApplication, type FakeApplication } from './application.js';
import type { Clock } from './clock.js';
import type { CommandRegistry } from './commands.js';
import { apiError, DiscordHttpError, formError, httpError } from './errors.js';
import type { FaultInjector } from './faults.js';
import { rateLimitedBody } from './faults.js';
import { apiChannel, apiDmChannel, apiGuildCreate, apiUser, dmChannelWith, findUser, type DmChannel, type FakeChannel, type FakeGuild, type FakeUser, Permissions, permissionsIn } from './guild.js';
import {
  ACK_DEADLINE_MS,
  ALLOWED_CALLBACKS,
  CallbackType,
  type FakeInteraction,
  TOKEN_LIFETIME_MS,
} from './interactions.js';
import { MessageFlags, type MessageStore, type StoredMessage } from './messages.js';
import type { RateLimiter, RouteClass } from './rateLimits.js';

type Json = Record<string, unknown>;

export interface LoggedRequest {
  /** The fake clock's time when the request arrived. */
  t: number;
  method: string;
  /** Decoded path after /api/v10 (or the /attachments path). */
  path: string;
  /** The matched route template, e.g. 'PATCH /webhooks/:app/:token/messages/:message'. */
  route: string;
  query: Record<string, string>;
  auth: 'bot' | 'none';
  json: unknown;
  files: Array<{ field: string; name: string; size: number; type: string }>;
  status: number;
}

export interface InteractionResponseEvent {
  interaction: FakeInteraction;
  type: number;
  data: Json | undefined;
}

export interface RestState {
  clock: Clock;
  token: string;
  applicationId: string;
  application: FakeApplication;
  bot: FakeUser;
  /** The guilds the bot is in; leaving one removes it. */
  guilds: FakeGuild[];
  /** Called after the bot left a guild (DELETE /users/@me/guilds/:guild), to send GUILD_DELETE. */
  onGuildLeft: (guild: FakeGuild) => void;
  store: MessageStore;
  commands: CommandRegistry;
  interactionsById: Map<string, FakeInteraction>;
  interactionsByToken: Map<string, FakeInteraction>;
  limiter: RateLimiter;
  faults: FaultInjector;
  gatewayUrl: () => string;
  events: EventEmitter;
  log: LoggedRequest[];
  rateLimitHits: Map<string, number>;
  /** DM channels the bot opened, by channel id. */
  dmChannels: Map<string, DmChannel>;
  newId: () => string;
  /** Bytes per file; a request may carry at least that much. */
  attachmentSizeLimit: number;
}

/** Where a channel route points: a guild text channel (permissions apply) or a DM with one user. */
type ResolvedChannel = { kind: 'guild'; guild: FakeGuild; channel: FakeChannel } | { kind: 'dm'; dm: DmChannel };

interface RouteRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: Json;
  rawJson: unknown;
  files: UploadedFile[];
}

interface Reply {
  status: number;
  body?: unknown;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  routeClass: RouteClass;
  botAuth: boolean;
  major: (params: Record<string, string>) => string;
  handle: (req: RouteRequest) => Reply;
}

function compile(template: string): RegExp {
  const source = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

const API_PREFIX = '/api/v10';

/** Discord's REST surface the bot uses (discord-notes §1.5), with its errors, limits and rate-limit headers. */
export class FakeRest {
  readonly #routes: Route[];

  constructor(private readonly state: RestState) {
    const route = (
      method: string,
      template: string,
      routeClass: RouteClass,
      botAuth: boolean,
      major: (p: Record<string, string>) => string,
      handle: (req: RouteRequest) => Reply,
    ): Route => ({ method, template, pattern: compile(template), routeClass, botAuth, major, handle });
    const global = () => 'global';
    const app = (p: Record<string, string>) => `${p['app']}`;
    const appGuild = (p: Record<string, string>) => `${p['app']}/${p['guild']}`;
    const webhook = (p: Record<string, string>) => `${p['app']}/${p['token']}`;
    const channel = (p: Record<string, string>) => `${p['channel']}`;
    this.#routes = [
      route('GET', '/gateway/bot', 'other', true, global, () => ({ status: 200, body: this.#gatewayBot() })),
      route('GET', '/gateway', 'other', false, global, () => ({ status: 200, body: { url: state.gatewayUrl() } })),
      route('GET', '/users/@me', 'other', true, global, () => ({ status: 200, body: apiUser(state.bot) })),
      route('POST', '/users/@me/channels', 'other', true, global, (r) => this.#openDm(r)),
      route('DELETE', '/users/@me/guilds/:guild', 'other', true, global, (r) => this.#leaveGuild(r.params['guild'] ?? '')),
      route('GET', '/users/:user', 'other', true, global, (r) => ({ status: 200, body: apiUser(this.#user(r.params['user'] ?? '')) })),
      route('GET', '/applications/@me', 'other', true, global, () => ({ status: 200, body: this.#application() })),
      route('GET', '/applications/:app/commands', 'commands', true, app, (r) => this.#getCommands(r)),
      route('PUT', '/applications/:app/commands', 'commands', true, app, (r) => this.#putCommands(r)),
      route('GET', '/applications/:app/guilds/:guild/commands', 'commands', true, appGuild, (r) => this.#getCommands(r)),
      route('PUT', '/applications/:app/guilds/:guild/commands', 'commands', true, appGuild, (r) => this.#putCommands(r)),
      route('POST', '/interactions/:id/:token/callback', 'callback', false, (p) => `${p['id']}`, (r) => this.#callback(r)),
      route('POST', '/webhooks/:app/:token', 'webhook', false, webhook, (r) => this.#followup(r)),
      route('GET', '/webhooks/:app/:token/messages/:message', 'webhook', false, webhook, (r) => this.#webhookMessage(r)),
      route('PATCH', '/webhooks/:app/:token/messages/:message', 'webhook', false, webhook, (r) => this.#webhookMessage(r)),
      route('DELETE', '/webhooks/:app/:token/messages/:message', 'webhook', false, webhook, (r) => this.#webhookMessage(r)),
      route('GET', '/channels/:channel', 'other', true, channel, (r) => this.#getChannel(r)),
      route('GET', '/guilds/:guild', 'other', true, (p) => `${p['guild']}`, (r) => this.#getGuild(r.params['guild'] ?? '')),
      route('POST', '/channels/:channel/messages', 'channel', true, channel, (r) => this.#channelPost(r)),
      route('GET', '/channels/:channel/messages/:message', 'channel', true, channel, (r) => this.#channelMessage(r)),
      route('PATCH', '/channels/:channel/messages/:message', 'channel', true, channel, (r) => this.#channelMessage(r)),
      route('DELETE', '/channels/:channel/messages/:message', 'channel', true, channel, (r) => this.#channelMessage(r)),
    ];
  }

  /** The node:http request listener. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    const entry: LoggedRequest = {
      t: this.state.clock.now(),
      method,
      path: path.startsWith(API_PREFIX) ? path.slice(API_PREFIX.length) || '/' : path,
      route: `${method} ${path}`,
      query: Object.fromEntries(url.searchParams),
      auth: req.headers.authorization?.startsWith('Bot ') ? 'bot' : 'none',
      json: undefined,
      files: [],
      status: 0,
    };
    const headers: Record<string, string> = {};
    let reply: Reply;
    try {
      reply = await this.#route(req, entry, headers, path);
    } catch (error) {
      reply = this.#replyForError(error);
    }
    entry.status = reply.status;
    if (reply.status === 429) this.state.rateLimitHits.set(entry.route, (this.state.rateLimitHits.get(entry.route) ?? 0) + 1);
    this.#send(res, reply, headers);
    this.state.log.push(entry);
    this.state.events.emit('request', entry);
  }

  async #route(req: IncomingMessage, entry: LoggedRequest, headers: Record<string, string>, fullPath: string): Promise<Reply> {
    const attachment = /^(?:\/api\/v10)?\/attachments\/([^/]+)\/([^/]+)$/.exec(fullPath);
    if (attachment && entry.method === 'GET') {
      entry.route = 'GET /attachments/:id/:name';
      return this.#injectedFault(entry, headers) ?? this.#attachment(attachment[1] ?? '', attachment[2] ?? '', headers);
    }
    if (!fullPath.startsWith(`${API_PREFIX}/`)) throw httpError(404, 'Not Found');

    const candidates = this.#routes.filter((r) => r.pattern.test(entry.path));
    const route = candidates.find((r) => r.method === entry.method);
    if (!route) throw candidates.length > 0 ? httpError(405, 'Method Not Allowed') : httpError(404, 'Not Found');
    entry.route = `${route.method} ${route.template}`;
    const params = route.pattern.exec(entry.path)?.groups ?? {};

    const body = await parseBody(await readRaw(req, maxRequestBytes(this.state.attachmentSizeLimit)), req.headers['content-type']);
    entry.json = body.json;
    entry.files = body.files.map(({ field, name, size, type }) => ({ field, name, size, type }));

    const injected = this.#injectedFault(entry, headers);
    if (injected) return injected;

    const bucket = this.state.limiter.take(route.routeClass, route.major(params));
    Object.assign(headers, bucket.headers);
    if (!bucket.allowed) {
      headers['retry-after'] = bucket.retryAfter.toFixed(3);
      headers['x-ratelimit-scope'] = 'user';
      return { status: 429, body: rateLimitedBody(Number(bucket.retryAfter.toFixed(3)), false) };
    }

    if (route.botAuth && req.headers.authorization !== `Bot ${this.state.token}`) throw httpError(401, 'Unauthorized');
    const json = body.json;
    return route.handle({
      method: entry.method,
      path: entry.path,
      params,
      query: entry.query,
      body: typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Json) : {},
      rawJson: json,
      files: body.files,
    });
  }

  #injectedFault(entry: LoggedRequest, headers: Record<string, string>): Reply | undefined {
    const injected = this.state.faults.match(entry.method, entry.path);
    if (!injected) return undefined;
    Object.assign(headers, injected.headers);
    return { status: injected.status, body: injected.body };
  }

  #replyForError(error: unknown): Reply {
    if (error instanceof DiscordHttpError) return { status: error.status, body: error.body };
    this.state.events.emit('fake-error', error);
    return { status: 500, body: { message: `500: fake Discord handler crashed: ${(error as Error).message}`, code: 0 } };
  }

  #send(res: ServerResponse, reply: Reply, headers: Record<string, string>): void {
    if (Buffer.isBuffer(reply.body)) {
      res.writeHead(reply.status, headers);
      res.end(reply.body);
      return;
    }
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }

  #attachment(id: string, name: string, headers: Record<string, string>): Reply {
    const attachment = this.state.store.attachment(id);
    if (!attachment || attachment.filename !== name) throw httpError(404, 'Not Found');
    headers['content-type'] = attachment.contentType;
    return { status: 200, body: attachment.bytes };
  }

  #gatewayBot(): Json {
    return {
      url: this.state.gatewayUrl(),
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    };
  }

  #application(): Json {
    return apiApplication(this.state.application, this.state.applicationId, this.state.bot);
  }

  /** Discord answers 204 and then sends GUILD_DELETE; a guild the bot is not in is 404 Unknown Guild. */
  #leaveGuild(guildId: string): Reply {
    const index = this.state.guilds.findIndex((g) => g.id === guildId);
    if (index < 0) throw apiError(404, 10004);
    const [guild] = this.state.guilds.splice(index, 1);
    this.state.onGuildLeft(guild!);
    return { status: 204 };
  }

  #checkApp(params: Record<string, string>): void {
    if (params['app'] !== this.state.applicationId) throw apiError(404, 10002);
    if (params['guild'] !== undefined && !this.state.guilds.some((g) => g.id === params['guild'])) throw apiError(404, 10004);
  }

  #getCommands(r: RouteRequest): Reply {
    this.#checkApp(r.params);
    return { status: 200, body: this.state.commands.scope(r.params['guild']).commands };
  }

  #putCommands(r: RouteRequest): Reply {
    this.#checkApp(r.params);
    return { status: 200, body: this.state.commands.overwrite(r.rawJson, r.params['guild']) };
  }

  #callback(r: RouteRequest): Reply {
    const interaction = this.state.interactionsById.get(r.params['id'] ?? '');
    if (!interaction || interaction.token !== r.params['token']) throw apiError(404, 10062);
    if (interaction.response) throw apiError(400, 40060);
    if (this.state.clock.now() - interaction.createdAt > ACK_DEADLINE_MS) throw apiError(404, 10062);
    const type = r.body['type'];
    const data = typeof r.body['data'] === 'object' && r.body['data'] !== null ? (r.body['data'] as Json) : undefined;
    if (typeof type !== 'number' || !ALLOWED_CALLBACKS[interaction.type].includes(type)) {
      throw formError([{ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: `Callback type ${String(type)} is not valid for interaction type ${interaction.type}` }]);
    }
    const change = { files: r.files, via: 'callback' as const, method: r.method, path: r.path, token: interaction.token };
    let message: StoredMessage | undefined;
    switch (type) {
      case CallbackType.ChannelMessage:
      case CallbackType.DeferredChannelMessage: {
        const loading = type === CallbackType.DeferredChannelMessage;
        const body = loading ? { flags: Number(data?.['flags'] ?? 0) & MessageFlags.Ephemeral } : (data ?? {});
        message = this.state.store.create(
          { channelId: interaction.channelId, guildId: interaction.guildId, kind: 'interaction-reply', interactionToken: interaction.token, loading },
          { ...change, body },
        );
        interaction.originalMessageId = message.id;
        break;
      }
      case CallbackType.DeferredUpdate:
      case CallbackType.UpdateMessage: {
        if (interaction.sourceMessageId === undefined) {
          throw formError([{ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'This interaction has no message to update' }]);
        }
        message = type === CallbackType.UpdateMessage ? this.state.store.edit(interaction.sourceMessageId, { ...change, body: data ?? {} }) : this.state.store.require(interaction.sourceMessageId);
        interaction.originalMessageId = message.id;
        break;
      }
      case CallbackType.AutocompleteResult: {
        const choices = data?.['choices'];
        if (!Array.isArray(choices)) throw formError([{ path: ['data', 'choices'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }]);
        if (choices.length > 25) throw formError([{ path: ['data', 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' }]);
        break;
      }
      case CallbackType.Modal: {
        const missing = ['custom_id', 'title', 'components'].filter((key) => data?.[key] === undefined);
        if (missing.length > 0) {
          throw formError(missing.map((key) => ({ path: ['data', key], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' })));
        }
        break;
      }
    }
    interaction.response = { type, data, at: this.state.clock.now() };
    const event: InteractionResponseEvent = { interaction, type, data };
    this.state.events.emit('interaction-response', event);
    if (r.query['with_response'] !== 'true') return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: interaction.id,
          type: interaction.type,
          activity_instance_id: null,
          response_message_id: message?.id ?? null,
          response_message_loading: type === CallbackType.DeferredChannelMessage,
          response_message_ephemeral: Boolean(message && (message.history[0]?.flags ?? 0) & MessageFlags.Ephemeral),
        },
        resource: { type, ...(message ? { message: this.state.store.toApi(message) } : {}) },
      },
    };
  }

  /** The interaction behind a webhook route, applying the 15-minute token life (401 50027, never on bot routes). */
  #webhookInteraction(r: RouteRequest): FakeInteraction {
    if (r.params['app'] !== this.state.applicationId) throw apiError(404, 10015);
    const interaction = this.state.interactionsByToken.get(r.params['token'] ?? '');
    if (!interaction || this.state.clock.now() - interaction.createdAt > TOKEN_LIFETIME_MS) throw apiError(401, 50027);
    if (!interaction.response) throw apiError(404, 10015);
    return interaction;
  }

  #followup(r: RouteRequest): Reply {
    const interaction = this.#webhookInteraction(r);
    const message = this.state.store.create(
      { channelId: interaction.channelId, guildId: interaction.guildId, kind: 'followup', interactionToken: interaction.token },
      { body: r.body, files: r.files, via: 'webhook', method: r.method, path: r.path, token: interaction.token },
    );
    interaction.followupIds.push(message.id);
    return r.query['wait'] === 'true' ? { status: 200, body: this.state.store.toApi(message) } : { status: 204 };
  }

  #webhookMessage(r: RouteRequest): Reply {
    const interaction = this.#webhookInteraction(r);
    const ref = r.params['message'];
    const id = ref === '@original' ? interaction.originalMessageId : ref;
    if (id === undefined || (id !== interaction.originalMessageId && !interaction.followupIds.includes(id))) throw apiError(404, 10008);
    return this.#messageVerb(r, id, { via: 'webhook', token: interaction.token });
  }

  #messageVerb(r: RouteRequest, id: string, source: { via: 'webhook' | 'channel'; token?: string }): Reply {
    const store = this.state.store;
    if (r.method === 'GET') return { status: 200, body: store.toApi(store.require(id)) };
    if (r.method === 'DELETE') {
      store.delete(id);
      return { status: 204 };
    }
    const message = store.edit(id, { body: r.body, files: r.files, method: r.method, path: r.path, ...source });
    return { status: 200, body: store.toApi(message) };
  }

  #user(id: string): FakeUser {
    const user = findUser(this.state.guilds, id);
    if (!user) throw apiError(404, 10013);
    return user;
  }

  #openDm(r: RouteRequest): Reply {
    const dm = dmChannelWith(this.state.dmChannels, this.#user(String(r.body['recipient_id'])), this.state.newId);
    return { status: 200, body: apiDmChannel(dm) };
  }

  #channel(r: RouteRequest): ResolvedChannel {
    const id = r.params['channel'];
    for (const guild of this.state.guilds) {
      const channel = guild.channels.find((c) => c.id === id);
      if (channel) return { kind: 'guild', guild, channel };
    }
    const dm = this.state.dmChannels.get(id ?? '');
    if (dm) return { kind: 'dm', dm };
    throw apiError(404, 10003);
  }

  /** Guild channels check the bot's computed permissions; DMs have none to check. */
  #requireBotPermissions(target: ResolvedChannel, needed: bigint): void {
    if (target.kind === 'dm') return;
    const member = target.guild.members.get(this.state.bot.id);
    const granted = member ? permissionsIn(target.guild, member, target.channel) : 0n;
    if ((granted & needed) !== needed) throw apiError(403, 50013);
  }

  /** GET /guilds/:id: the guild object as Discord sends it there (no channels or members: those come with GUILD_CREATE). */
  #getGuild(guildId: string): Reply {
    const guild = this.state.guilds.find((g) => g.id === guildId);
    if (!guild) throw apiError(404, 10004);
    const { channels: _channels, members: _members, threads: _threads, ...body } = apiGuildCreate(guild, this.state.bot.id);
    return { status: 200, body };
  }

  #getChannel(r: RouteRequest): Reply {
    const target = this.#channel(r);
    return { status: 200, body: target.kind === 'dm' ? apiDmChannel(target.dm) : apiChannel(target.channel, this.state.bot.id) };
  }

  #channelPost(r: RouteRequest): Reply {
    const target = this.#channel(r);
    this.#requireBotPermissions(target, Permissions.ViewChannel | Permissions.SendMessages | (r.files.length > 0 ? Permissions.AttachFiles : 0n));
    const where = target.kind === 'dm' ? { channelId: target.dm.id } : { channelId: target.channel.id, guildId: target.guild.id };
    const message = this.state.store.create(
      { ...where, kind: 'channel' },
      { body: r.body, files: r.files, via: 'channel', method: r.method, path: r.path },
    );
    return { status: 200, body: this.state.store.toApi(message) };
  }

  #channelMessage(r: RouteRequest): Reply {
    const target = this.#channel(r);
    this.#requireBotPermissions(target, Permissions.ViewChannel | (r.files.length > 0 ? Permissions.AttachFiles : 0n));
    const message = this.state.store.require(r.params['message'] ?? '');
    // Ephemeral replies exist only for their interaction token; the channel route cannot see them.
    const ephemeral = ((message.history[0]?.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
    if (message.channelId !== r.params['channel'] || ephemeral) throw apiError(404, 10008);
    return this.#messageVerb(r, message.id, { via: 'channel' });
  }
}
