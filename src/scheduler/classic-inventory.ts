// What a classic ComfyUI can run: its node classes (`/object_info`) and the files of every model folder. Used by
// the classic backend and by a v2 backend's discovery URL.
import type { ComfyHttp } from '../comfy/http.js';
import type { Logger } from '../config/logger.js';
import type { Inventory } from './requirements.js';

/**
 * Rejects if the node classes or the folder list cannot be read; an unreadable folder only counts as empty. Only
 * the class names are taken from the node list (ComfyHttp.nodeClassNames): a parsed /object_info is megabytes of
 * objects the scheduler never reads.
 */
export async function readClassicInventory(http: ComfyHttp, log: Logger): Promise<Inventory> {
  const [nodeClasses, folders] = await Promise.all([http.nodeClassNames().then((names) => new Set(names)), http.modelFolders()]);
  const lists = await Promise.all(
    folders.map((folder) =>
      http.models(folder).catch((error: unknown) => {
        // One unreadable folder must not hide the others.
        log.warn({ folder, err: error instanceof Error ? error.message : String(error) }, 'model folder unreadable');
        return [] as string[];
      }),
    ),
  );
  return { nodeClasses, models: new Set(lists.flat()), folders: new Map(folders.map((folder, index) => [folder, lists[index] ?? []])) };
}
