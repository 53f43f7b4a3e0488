// The Discord room's building blocks, for the wiring in main.ts and the interaction handlers.
export { autocompleteChoices, type AutocompleteChoice } from './autocomplete.js';
export {
  CardEditor,
  type CardEditorEvent,
  type CardEditorOptions,
  type CardEditorStats,
  type CardTransport,
  type FinishOutcome,
  type Unreachable,
} from './cardEditor.js';
export { renderCard, type CardFile, type CardPayload, type CardState, type CardView, type PreviewImage } from './cardRenderer.js';
export { ChannelPacer, ChannelPacers } from './channelPacer.js';
export { commandInputFrom } from './commandInput.js';
export {
  buildCommandPayloads,
  commandDifferences,
  needsRegistration,
  type CommandInput,
  type CommandLike,
  type CommandPayload,
} from './commandPayloads.js';
export { decodeCustomId, encodeCustomId, type BuiltInAction, type JobComponentId } from './customIds.js';
export { planDelivery, toCardFiles, uploadLimit, type DeliveryPlan } from './delivery.js';
export { classifyCardError } from './discordErrors.js';
export { describeFailure } from './failureText.js';
export { renderHelp, type HelpCommand } from './helpReply.js';
export { DiscordCardTransport, existingMessage, type CardLocation } from './interactionTransport.js';
export { canAdmin, isModerator, mayControlJob, memberAccess, moderatesJob, type MemberAccess } from './permissions.js';
export { renderQueue, type QueueView } from './queueReply.js';
export { renderStatus, type StatusView } from './statusReply.js';
