// Rebuilding a job's spec from its store row after a restart. The row keeps what the user chose (bound
// workflow with its seed, parameters, saved image files); what the command file decides (where images go, which
// outputs are delivered, the command's limits) is taken from the command as it is loaded now.
import type { CommandDefinition } from '../templates/definition.js';
import type { PendingChoice } from '../templates/model-choice.js';
import type { JobImage, JobSpec } from './job.js';
import type { JobRow, StoredImage } from './store-types.js';

/** A command by name as the job's server sees it (a server's own commands exist in that server only). */
export type CommandLookup = (name: string, guildId: string | null) => CommandDefinition | undefined;

/** A spec, or why the row cannot run again (said to the job's owner). */
export type RebuiltSpec = { ok: true; spec: JobSpec } | { ok: false; problem: string };

/**
 * `images` are the row's saved image inputs, found on disk (the job reads them only when it is uploaded). A job
 * without images runs again even when
 * its command was removed: its workflow is complete, only the output filter and command limits are lost.
 */
export function specFromRow(row: JobRow, images: readonly Pick<StoredImage, 'option' | 'filename' | 'path'>[], commands: CommandLookup): RebuiltSpec {
  const command = commands(row.command, row.guildId);
  if (!command && images.length > 0) {
    return { ok: false, problem: `the command /${row.command} no longer exists, so its image input cannot be placed` };
  }
  const jobImages: JobImage[] = [];
  for (const image of images) {
    const option = command?.options.find((o) => o.name === image.option);
    if (option?.type !== 'image') {
      return { ok: false, problem: `/${row.command} no longer has an image option "${image.option}"` };
    }
    const node = row.workflow[option.target.nodeId];
    if (!node || !Object.hasOwn(node.inputs, option.target.input)) {
      return {
        ok: false,
        problem: `/${row.command} now puts image "${image.option}" into ${option.target.ref}, which this job's workflow does not have`,
      };
    }
    jobImages.push({ option: image.option, filename: image.filename, path: image.path, target: option.target });
  }
  const choices = command ? pendingChoices(command, row) : [];
  if (typeof choices === 'string') return { ok: false, problem: choices };
  return {
    ok: true,
    spec: {
      id: row.id,
      // Roles are not stored: a restored job keeps its place in the queue but not a priority role's head start.
      owner: { userId: row.ownerId, guildId: row.guildId, roles: [] },
      command: row.command,
      workflow: row.workflow,
      params: row.params,
      ...(choices.length > 0 ? { choices } : {}),
      images: jobImages,
      mode: row.mode,
      ...(command ? { outputs: [...command.outputs], commandLimits: command.limits } : {}),
    },
  };
}

/**
 * The model options left to the command's preference that no backend chose yet: those missing from the params
 * (a dispatch records its choice there, a requeue takes it out). A job dispatched before the restart keeps its model.
 */
function pendingChoices(command: CommandDefinition, row: JobRow): PendingChoice[] | string {
  const choices: PendingChoice[] = [];
  for (const option of command.options) {
    if (option.type !== 'choice' || option.source.kind !== 'models' || typeof option.default !== 'object') continue;
    if (Object.hasOwn(row.params, option.name)) continue;
    const target = option.source.target;
    if (!Object.hasOwn(row.workflow[target.nodeId]?.inputs ?? {}, target.input)) {
      return `/${row.command} now puts model "${option.name}" into ${target.ref}, which this job's workflow does not have`;
    }
    choices.push({ option: option.name, folder: option.source.folder, target, preference: option.default });
  }
  return choices;
}
