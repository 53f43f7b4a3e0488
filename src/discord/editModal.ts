// The Edit button's modal: the job's prompt in a text box, submitted back with a custom_id naming the job.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import { encodeCustomId } from './customIds.js';
import { truncate } from './embedLimits.js';

/** Discord's limit for a text input's value and max_length. */
const TEXT_INPUT_MAX = 4000;
const TITLE_MAX = 45;
/** The text input's custom_id; the modal's own custom_id carries the job. */
export const PROMPT_FIELD_ID = 'prompt';

export interface EditModalView {
  jobId: string;
  command: string;
  prompt: string;
  /** The prompt option's max_length from the command file. */
  maxLength: number;
}

export function renderEditModal(view: EditModalView): APIModalInteractionResponseCallbackData {
  const maxLength = Math.min(Math.max(1, Math.floor(view.maxLength)), TEXT_INPUT_MAX);
  return {
    custom_id: encodeCustomId({ kind: 'modal', jobId: view.jobId, action: 'edit' }),
    title: truncate(`Edit and run /${view.command} again`, TITLE_MAX),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: PROMPT_FIELD_ID,
            label: 'Prompt',
            style: TextInputStyle.Paragraph,
            required: true,
            max_length: maxLength,
            // A prefilled value longer than max_length is refused by Discord.
            value: view.prompt.slice(0, maxLength),
          },
        ],
      },
    ],
  };
}
