// @saintno/comfyui-sdk doing the peer workload, used the way its README shows (ComfyApi + PromptBuilder + CallWrapper).
import { CallWrapper, ComfyApi, PromptBuilder } from '@saintno/comfyui-sdk';
import type { PeerClient } from './peer.js';

export async function connectSaintno(url: string): Promise<PeerClient> {
  const api = new ComfyApi(url);
  await api.init().waitForReady();
  return {
    async runPrompt(workflow) {
      const output = Object.entries(workflow).find(([, node]) => node.class_type === 'SaveImage')?.[0];
      if (!output) throw new Error('the peer workload needs a SaveImage node');
      const builder = new PromptBuilder(workflow as never, [], ['images']).setOutputNode('images', output as never);
      let previews = 0;
      let failure: Error | undefined;
      const result = await new CallWrapper(api, builder)
        .onPreview(() => {
          previews += 1;
        })
        .onFailed((error) => {
          failure = error;
        })
        .run();
      if (!result) throw new Error(`run() returned ${String(result)}${failure ? `: ${failure.message}` : ''}`);
      const images = ((result as { images?: { images?: unknown[] } }).images?.images ?? []) as Parameters<ComfyApi['getImage']>[0][];
      for (const image of images) await (await api.getImage(image)).arrayBuffer();
      return { previews, outputs: images.length };
    },
    async close() {
      api.destroy();
    },
  };
}
