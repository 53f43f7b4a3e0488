// Which option of a command is "the prompt": shown as the card's text and what `remix: true` edits.
export { promptOptionOf as promptKeyOf } from '../../templates/definition.js';
