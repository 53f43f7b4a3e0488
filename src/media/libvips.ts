// libvips settings for a long-running bot. Its operation cache (by default up to 50 MB, 100 operations) keeps
// results to serve the same operation on the same input again; the bot never repeats one (every preview frame and
// output differs), so the cache only holds memory.
import sharp from 'sharp';

export function releaseLibvipsCache(): void {
  sharp.cache(false);
}
