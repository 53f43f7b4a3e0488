// A server command being added: the converted workflow and the proposed options, adjusted by the admin in an
// ephemeral message (a select menu keeps or drops options, a modal sets the description and the maxima) until
// they save it. Drafts live in memory for the interaction token's lifetime only; after a restart the admin adds
// the file again.
import { randomBytes } from 'node:crypto';
import { ButtonStyle, ComponentType, TextInputStyle, type APIActionRowComponent, type APIComponentInMessageActionRow, type APIEmbed, type APIModalInteractionResponseCallbackData } from 'discord.js';
import type { ApiWorkflow } from '../../comfy/types.js';
import type { ProposedOption } from '../../templates/import/propose.js';
import type { ServerInfo } from '../../templates/server-info.js';
import { truncate } from '../embedLimits.js';

export const DRAFT_LIFETIME_MS = 15 * 60_000;
const DESCRIPTION_MAX = 100;

export interface Draft {
  id: string;
  guildId: string;
  userId: string;
  name: string;
  source: string;
  workflow: ApiWorkflow;
  options: ProposedOption[];
  /** Names of the options kept (all at first). */
  kept: Set<string>;
  description: string;
  notes: string[];
  /** The node descriptions and model lists of the backend it was converted against, for the check at Save. */
  server: ServerInfo;
  expiresAt: number;
}

export class Drafts {
  readonly #drafts = new Map<string, Draft>();

  create(fields: Omit<Draft, 'id' | 'kept' | 'expiresAt' | 'description'>, now: number): Draft {
    for (const [id, draft] of this.#drafts) if (draft.expiresAt <= now) this.#drafts.delete(id);
    const draft: Draft = {
      ...fields,
      id: randomBytes(9).toString('base64url'),
      kept: new Set(fields.options.map((entry) => entry.option.name)),
      description: `Run the ${fields.name} workflow`,
      expiresAt: now + DRAFT_LIFETIME_MS,
    };
    this.#drafts.set(draft.id, draft);
    return draft;
  }

  /** The draft, when it exists, has not expired and belongs to this admin. */
  get(id: string, userId: string, now: number): Draft | undefined {
    const draft = this.#drafts.get(id);
    if (!draft || draft.expiresAt <= now || draft.userId !== userId) return undefined;
    return draft;
  }

  delete(id: string): void {
    this.#drafts.delete(id);
  }
}

/** custom_ids of the draft's components: `srvcmd:<draft>:<action>`. */
export type DraftAction = 'keep' | 'save' | 'edit' | 'cancel' | 'modal';
const ACTIONS: readonly DraftAction[] = ['keep', 'save', 'edit', 'cancel', 'modal'];
export const DESCRIPTION_FIELD = 'description';
export const LIMITS_FIELD = 'limits';

export function draftCustomId(draftId: string, action: DraftAction): string {
  return `srvcmd:${draftId}:${action}`;
}

export function decodeDraftCustomId(customId: string): { draftId: string; action: DraftAction } | null {
  const match = /^srvcmd:([A-Za-z0-9_-]{1,32}):([a-z]+)$/.exec(customId);
  if (!match || !(ACTIONS as readonly string[]).includes(match[2] as string)) return null;
  return { draftId: match[1] as string, action: match[2] as DraftAction };
}

export function keptOptions(draft: Draft): ProposedOption[] {
  return draft.options.filter((entry) => draft.kept.has(entry.option.name));
}

function describe(entry: ProposedOption): string {
  const option = entry.option;
  const range = 'max' in option && option.max !== undefined ? ` ${'min' in option && option.min !== undefined ? option.min : '…'}–${option.max}` : '';
  const fallback = 'default' in option && option.default !== undefined ? `, default ${String(option.default)}` : '';
  return `${option.type}${range}${fallback}`;
}

/** The ephemeral message: the options (kept ones first), the select menu, Save / Description & limits / Cancel. */
export function renderDraft(draft: Draft): { embeds: APIEmbed[]; components: APIActionRowComponent<APIComponentInMessageActionRow>[] } {
  const lines = draft.options.map((entry) => `${draft.kept.has(entry.option.name) ? '✅' : '➖'} **${entry.option.name}** (${describe(entry)}): ${entry.why}`);
  const notes = draft.notes.slice(0, 5).map((note) => `ℹ️ ${note}`);
  const embed: APIEmbed = {
    title: truncate(`New command /${draft.name} for this server`, 256),
    description: truncate(
      [`*${draft.description}*`, '', lines.length > 0 ? lines.join('\n') : 'No options: the workflow runs as saved.', ...(notes.length > 0 ? ['', ...notes] : []), '', 'Pick the options to keep, set the description and maxima, then Save. Nothing is saved before.'].join('\n'),
      4096,
    ),
  };
  const rows: APIActionRowComponent<APIComponentInMessageActionRow>[] = [];
  if (draft.options.length > 0) {
    rows.push({
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.StringSelect,
          custom_id: draftCustomId(draft.id, 'keep'),
          placeholder: 'Options to keep',
          min_values: 0,
          max_values: draft.options.length,
          options: draft.options.map((entry) => ({
            label: entry.option.name,
            value: entry.option.name,
            description: truncate(entry.why, 100),
            default: draft.kept.has(entry.option.name),
          })),
        },
      ],
    });
  }
  rows.push({
    type: ComponentType.ActionRow,
    components: [
      { type: ComponentType.Button, style: ButtonStyle.Success, label: 'Save', custom_id: draftCustomId(draft.id, 'save') },
      { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Description & limits', custom_id: draftCustomId(draft.id, 'edit') },
      { type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Cancel', custom_id: draftCustomId(draft.id, 'cancel') },
    ],
  });
  return { embeds: [embed], components: rows };
}

export function renderDraftModal(draft: Draft): APIModalInteractionResponseCallbackData {
  const limits = keptOptions(draft)
    // A seed's range (up to 2^64) is not a limit, and would not survive the round trip through a number.
    .filter((entry) => (entry.option.type === 'integer' || entry.option.type === 'number') && typeof entry.option.max === 'number' && Number.isSafeInteger(Math.trunc(entry.option.max)))
    .map((entry) => `${entry.option.name} ${String((entry.option as { max: unknown }).max)}`)
    .join(', ');
  return {
    custom_id: draftCustomId(draft.id, 'modal'),
    title: truncate(`/${draft.name}: description and limits`, 45),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [{ type: ComponentType.TextInput, custom_id: DESCRIPTION_FIELD, label: 'Description', style: TextInputStyle.Short, required: true, max_length: DESCRIPTION_MAX, value: draft.description }],
      },
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: LIMITS_FIELD,
            label: 'Maximum per option ("steps 30, width 1024")',
            style: TextInputStyle.Paragraph,
            required: false,
            max_length: 1000,
            ...(limits.length > 0 && limits.length <= 1000 ? { value: limits } : {}),
          },
        ],
      },
    ],
  };
}

/**
 * Applies "steps 30, width 1024" to the kept numeric options: each maximum lowered or raised, never below the
 * option's minimum, the default brought within it. Returns the first problem as one line, or null when applied.
 */
export function applyLimits(draft: Draft, text: string): string | null {
  const entries = text.split(/[,;\n]/).map((part) => part.trim()).filter((part) => part.length > 0);
  const changes: [ProposedOption, number][] = [];
  for (const part of entries) {
    const match = /^([-_\p{L}\p{N}]+)\s*(?:<=|=|:|\s)\s*(-?\d+(?:\.\d+)?)$/u.exec(part);
    if (!match) return `"${part}" is not "option maximum" (for example "steps 30")`;
    const [, name, value] = match as unknown as [string, string, string];
    const entry = keptOptions(draft).find((candidate) => candidate.option.name === name);
    if (!entry || (entry.option.type !== 'integer' && entry.option.type !== 'number')) return `"${name}" is not a kept number option of /${draft.name}`;
    const max = Number(value);
    if (entry.option.type === 'integer' && !Number.isInteger(max)) return `${name} takes whole numbers; "${value}" is not one`;
    if (!Number.isSafeInteger(Math.trunc(max))) return `${name}: ${value} is too large for a limit`;
    const min = typeof entry.option.min === 'number' ? entry.option.min : undefined;
    if (min !== undefined && max < min) return `${name}: the maximum ${max} is below its minimum ${min}`;
    changes.push([entry, max]);
  }
  for (const [entry, max] of changes) {
    const option = entry.option as { max?: unknown; default?: unknown };
    option.max = max;
    if (typeof option.default === 'number' && option.default > max) option.default = max;
  }
  return null;
}

export function setDescription(draft: Draft, text: string): string | null {
  const description = text.trim();
  if (description.length === 0) return 'the description cannot be empty';
  draft.description = description.slice(0, DESCRIPTION_MAX);
  return null;
}
