// The templates room's public API (see docs/ARCHITECTURE.md "templates/").
export { CommandRegistry, type RegistryOptions } from './registry.js';
export { loadCommands, type LoadResult } from './load.js';
export { prepareJob, bindImages, type PreparedJob, type ImageInput, type PrepareOptions } from './prepare.js';
export { choicesFor, filterChoices, type Choice, type ChoiceSource } from './choices.js';
export { checkAgainstServer } from './live-check.js';
export type { ServerInfo } from './server-info.js';
export { OptionError, formatProblem, type Problem } from './errors.js';
export type * from './definition.js';
export type { ResolvedTarget } from './targets.js';
export type { ModelPreference, PendingChoice } from './model-choice.js';
