import type { UploadedFile } from './body.js';
import type { Clock } from './clock.js';
import { apiError, formError } from './errors.js';
import { apiUser, type FakeUser } from './guild.js';
import type { SnowflakeFactory } from './ids.js';
import { messageBodyErrors } from './validation.js';

type Json = Record<string, unknown>;

export const MessageFlags = { Ephemeral: 64, Loading: 128 } as const;
const MAX_ATTACHMENTS = 10;

export interface StoredAttachment {
  id: string;
  filename: string;
  size: number;
  contentType: string;
  bytes: Buffer;
  url: string;
  description?: string;
}

/** Which door a change came through: the interaction callback, the interaction webhook, or the bot-auth channel route. */
export type ChangeVia = 'callback' | 'webhook' | 'channel';

export interface MessageRevision {
  at: number;
  via: ChangeVia;
  method: string;
  path: string;
  /** The interaction token used, absent for bot-auth channel calls. */
  token?: string;
  content: string;
  embeds: Json[];
  components: Json[];
  attachments: StoredAttachment[];
  flags: number;
}

export type MessageKind = 'interaction-reply' | 'followup' | 'channel';

export interface StoredMessage {
  id: string;
  channelId: string;
  /** Absent for direct messages. */
  guildId?: string;
  kind: MessageKind;
  /** The interaction whose token created it (replies and followups). */
  interactionToken?: string;
  createdAt: number;
  deleted: boolean;
  /** history[0] is the message as created; each later entry is the full state after one edit. */
  history: MessageRevision[];
}

export function currentRevision(message: StoredMessage): MessageRevision {
  const last = message.history[message.history.length - 1];
  if (!last) throw new Error(`message ${message.id} has no revisions`);
  return last;
}

export interface MessageChange {
  body: Json;
  files: UploadedFile[];
  via: ChangeVia;
  method: string;
  path: string;
  token?: string;
}

export interface MessageStoreOptions {
  ids: SnowflakeFactory;
  clock: Clock;
  bot: FakeUser;
  applicationId: string;
  attachmentSizeLimit: number;
  attachmentUrl: (id: string, filename: string) => string;
  onCreate: (message: StoredMessage) => void;
  onUpdate: (message: StoredMessage) => void;
}

export class MessageStore {
  readonly #messages = new Map<string, StoredMessage>();
  readonly #attachments = new Map<string, StoredAttachment>();

  constructor(private readonly options: MessageStoreOptions) {}

  all(): StoredMessage[] {
    return [...this.#messages.values()];
  }

  get(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  /** A live message, or Discord's 404 10008. */
  require(id: string): StoredMessage {
    const message = this.#messages.get(id);
    if (!message || message.deleted) throw apiError(404, 10008);
    return message;
  }

  attachment(id: string): StoredAttachment | undefined {
    return this.#attachments.get(id);
  }

  /** Stores bytes not tied to a message (user uploads in slash-command options) so the bot can download them. */
  storeUpload(filename: string, bytes: Buffer, contentType: string): StoredAttachment {
    const id = this.options.ids.next();
    const attachment = { id, filename, size: bytes.length, contentType, bytes, url: this.options.attachmentUrl(id, filename) };
    this.#attachments.set(id, attachment);
    return attachment;
  }

  create(
    target: { channelId: string; guildId?: string; kind: MessageKind; interactionToken?: string; loading?: boolean },
    change: MessageChange,
  ): StoredMessage {
    const { body, files } = change;
    this.#validate(body, files);
    const attachments = files.map((file) => this.#storeFile(file, metadataFor(body, String(file.index))));
    const content = typeof body['content'] === 'string' ? body['content'] : '';
    const embeds = arrayOf(body['embeds']);
    const components = arrayOf(body['components']);
    if (!target.loading && content === '' && embeds.length === 0 && components.length === 0 && attachments.length === 0) {
      throw apiError(400, 50006);
    }
    const flags = (typeof body['flags'] === 'number' ? body['flags'] : 0) | (target.loading ? MessageFlags.Loading : 0);
    const message: StoredMessage = {
      id: this.options.ids.next(),
      channelId: target.channelId,
      ...(target.guildId === undefined ? {} : { guildId: target.guildId }),
      kind: target.kind,
      ...(target.interactionToken === undefined ? {} : { interactionToken: target.interactionToken }),
      createdAt: this.options.clock.now(),
      deleted: false,
      history: [this.#revision(change, { content, embeds, components, attachments, flags })],
    };
    this.#messages.set(message.id, message);
    this.options.onCreate(message);
    return message;
  }

  /** PATCH semantics: absent keys keep their value; `attachments` lists what survives (discord-notes §1.7). */
  edit(id: string, change: MessageChange): StoredMessage {
    const message = this.require(id);
    const { body, files } = change;
    this.#validate(body, files);
    const previous = currentRevision(message);
    const attachments = this.#attachmentsAfterEdit(previous.attachments, body, files);
    const next = {
      content: 'content' in body ? (typeof body['content'] === 'string' ? body['content'] : '') : previous.content,
      embeds: 'embeds' in body ? arrayOf(body['embeds']) : previous.embeds,
      components: 'components' in body ? arrayOf(body['components']) : previous.components,
      attachments,
      // An edit ends the "thinking…" state; the ephemeral bit is fixed by the first response.
      flags:
        ((typeof body['flags'] === 'number' ? body['flags'] : previous.flags) & ~(MessageFlags.Loading | MessageFlags.Ephemeral)) |
        (previous.flags & MessageFlags.Ephemeral),
    };
    message.history.push(this.#revision(change, next));
    this.options.onUpdate(message);
    return message;
  }

  delete(id: string): void {
    const message = this.require(id);
    message.deleted = true;
    this.options.onUpdate(message);
  }

  toApi(message: StoredMessage): Json {
    const state = currentRevision(message);
    const edited = message.history.length > 1 ? new Date(state.at).toISOString() : null;
    const interactionMessage = message.kind !== 'channel';
    return {
      id: message.id,
      channel_id: message.channelId,
      ...(message.guildId === undefined ? {} : { guild_id: message.guildId }),
      author: apiUser(this.options.bot),
      content: state.content,
      timestamp: new Date(message.createdAt).toISOString(),
      edited_timestamp: edited,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      mention_channels: [],
      attachments: state.attachments.map(apiAttachment),
      embeds: state.embeds.map((embed) => resolveAttachmentUrls(embed, state.attachments)),
      reactions: [],
      pinned: false,
      type: message.kind === 'interaction-reply' ? 20 : 0,
      flags: state.flags,
      components: state.components,
      ...(interactionMessage ? { webhook_id: this.options.applicationId, application_id: this.options.applicationId } : {}),
    };
  }

  #validate(body: Json, files: UploadedFile[]): void {
    const tooBig = files.find((file) => file.size > this.options.attachmentSizeLimit);
    if (tooBig) throw apiError(413, 40005);
    const errors = messageBodyErrors(body);
    if (errors.length > 0) throw formError(errors);
  }

  #attachmentsAfterEdit(existing: StoredAttachment[], body: Json, files: UploadedFile[]): StoredAttachment[] {
    const listed = body['attachments'];
    const usedFiles = new Set<UploadedFile>();
    const fileFor = (id: string) => files.find((file) => String(file.index) === id);
    let result: StoredAttachment[];
    if (!Array.isArray(listed)) {
      result = [...existing];
    } else {
      result = [];
      for (const entry of listed as unknown[]) {
        const id = typeof entry === 'object' && entry !== null ? String((entry as Json)['id']) : String(entry);
        const kept = existing.find((attachment) => attachment.id === id);
        const file = kept ? undefined : fileFor(id);
        if (kept) result.push(kept);
        else if (file) {
          usedFiles.add(file);
          result.push(this.#storeFile(file, entry as Json));
        } else {
          throw formError([{ path: ['attachments'], code: 'ATTACHMENT_NOT_FOUND', message: `Unknown attachment id ${id}: neither on the message nor a files[n] part` }]);
        }
      }
    }
    for (const file of files) if (!usedFiles.has(file)) result.push(this.#storeFile(file, metadataFor(body, String(file.index))));
    return result;
  }

  #storeFile(file: UploadedFile, metadata: Json | undefined): StoredAttachment {
    const filename = typeof metadata?.['filename'] === 'string' ? metadata['filename'] : file.name;
    const id = this.options.ids.next();
    const attachment: StoredAttachment = {
      id,
      filename,
      size: file.size,
      contentType: file.type,
      bytes: file.bytes,
      url: this.options.attachmentUrl(id, filename),
      ...(typeof metadata?.['description'] === 'string' ? { description: metadata['description'] } : {}),
    };
    this.#attachments.set(id, attachment);
    return attachment;
  }

  #revision(change: MessageChange, state: Omit<MessageRevision, 'at' | 'via' | 'method' | 'path' | 'token'>): MessageRevision {
    if (state.attachments.length > MAX_ATTACHMENTS) throw apiError(400, 30015);
    return {
      at: this.options.clock.now(),
      via: change.via,
      method: change.method,
      path: change.path,
      ...(change.token === undefined ? {} : { token: change.token }),
      ...state,
    };
  }
}

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function metadataFor(body: Json, id: string): Json | undefined {
  const listed = body['attachments'];
  if (!Array.isArray(listed)) return undefined;
  return (listed as unknown[]).find((entry): entry is Json => typeof entry === 'object' && entry !== null && String((entry as Json)['id']) === id);
}

export function apiAttachment(attachment: StoredAttachment): Json {
  return {
    id: attachment.id,
    filename: attachment.filename,
    size: attachment.size,
    url: attachment.url,
    proxy_url: attachment.url,
    content_type: attachment.contentType,
    ...(attachment.description === undefined ? {} : { description: attachment.description }),
  };
}

/** Discord rewrites `attachment://name` in embeds to the uploaded file's URL. */
function resolveAttachmentUrls(embed: Json, attachments: StoredAttachment[]): Json {
  const resolve = (media: unknown): unknown => {
    if (typeof media !== 'object' || media === null) return media;
    const url = (media as Json)['url'];
    if (typeof url !== 'string' || !url.startsWith('attachment://')) return media;
    const match = attachments.find((a) => a.filename === url.slice('attachment://'.length));
    return match ? { ...(media as Json), url: match.url, proxy_url: match.url } : media;
  };
  return { ...embed, ...('image' in embed ? { image: resolve(embed['image']) } : {}), ...('thumbnail' in embed ? { thumbnail: resolve(embed['thumbnail']) } : {}) };
}
