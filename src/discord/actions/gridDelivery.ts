// A batch of 2-9 images goes on the card as one numbered grid (U<n> posts image n, Files the originals, which the
// guild may also have attached under the grid), so a batch of four is one glance. Anything else is delivered as
// it is.
import type { OutputFile } from '../../comfy/types.js';
import type { Logger } from '../../config/logger.js';
import { composeGrid, GridError } from '../../media/grid.js';
import type { CardPlan } from '../jobCard.js';
import type { DeliveryPlan } from '../delivery.js';

const TILE = /^image\/(png|jpeg|webp)$/;
const MAX_TILES = 9;

export async function planWithGrid(
  outputs: readonly OutputFile[],
  limitBytes: number,
  plan: (outputs: readonly OutputFile[]) => Promise<DeliveryPlan>,
  logger: Logger,
  { originals }: { originals: boolean },
): Promise<CardPlan> {
  const first = outputs[0];
  if (!first || outputs.length < 2 || outputs.length > MAX_TILES || !outputs.every((output) => TILE.test(output.mime))) return plan(outputs);
  let grid;
  try {
    grid = await composeGrid(outputs.map((output) => output.bytes), { limitBytes });
  } catch (error) {
    if (!(error instanceof GridError)) throw error;
    logger.warn({ err: error }, 'no grid for this batch; the images are attached one by one');
    return plan(outputs);
  }
  const file: OutputFile = { node: first.node, ref: { filename: 'grid.jpg', subfolder: '', type: 'temp' }, kind: 'images', mime: grid.mime, bytes: grid.bytes };
  // The grid comes first, so it is the card's picture; the originals (when the guild asks for them) follow it,
  // in further messages where one would be too full.
  const planned = await plan(originals ? [file, ...outputs] : [file]);
  return { ...planned, summary: `${outputs.length} images`, imageCount: outputs.length, grid: true };
}
