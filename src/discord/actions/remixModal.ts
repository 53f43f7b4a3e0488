// The modal of a `remix` action: the options it names, prefilled with what the action would run with, edited
// before the job is submitted. Its custom_id names the parent job and the action; each field is named for its
// option, so the submission maps straight back to option values.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import type { OptionDefinition } from '../../templates/definition.js';
import { encodeCustomId } from '../customIds.js';
import { truncate } from '../embedLimits.js';

/** Discord's limits: a text input's value and max_length, its label, a modal's title. */
const TEXT_INPUT_MAX = 4000;
const LABEL_MAX = 45;
const TITLE_MAX = 45;
/** Longer strings get a paragraph box. */
const SHORT_MAX = 100;

export interface RemixModalView {
  jobId: string;
  action: { name: string; label: string };
  /** The output the action works on (per-output actions). */
  index?: number;
  command: string;
  /** The options to edit, in order (at most 5), each with its prefilled value. */
  fields: readonly { option: Exclude<OptionDefinition, { type: 'image' }>; value: unknown }[];
}

export function renderRemixModal(view: RemixModalView): APIModalInteractionResponseCallbackData {
  const which = view.index === undefined ? {} : { index: view.index };
  return {
    custom_id: encodeCustomId({ kind: 'modal', jobId: view.jobId, name: view.action.name, ...which }),
    title: truncate(`${view.action.label}${view.index === undefined ? '' : ` ${view.index}`} · /${view.command}`, TITLE_MAX),
    components: view.fields.map(({ option, value }) => {
      const maxLength = Math.min(option.type === 'string' ? Math.max(1, option.maxLength) : SHORT_MAX, TEXT_INPUT_MAX);
      const text = value === undefined || value === null ? '' : String(value).slice(0, maxLength);
      return {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: option.name,
            label: truncate(option.name === option.description ? option.name : `${option.name}: ${option.description}`, LABEL_MAX),
            style: maxLength > SHORT_MAX ? TextInputStyle.Paragraph : TextInputStyle.Short,
            required: option.required,
            max_length: maxLength,
            // Discord refuses an empty prefilled value.
            ...(text !== '' && { value: text }),
          },
        ],
      };
    }),
  };
}
