// comfycord's ComfyClient doing the peer workload.
import { ComfyClient } from '../../src/comfy/client.js';
import type { PeerClient } from './peer.js';

export async function connectComfycord(url: string): Promise<PeerClient> {
  const client = new ComfyClient({ name: 'peer', url });
  await client.connect();
  return {
    async runPrompt(workflow) {
      const run = await client.submit(workflow);
      let previews = 0;
      const unsubscribe = run.subscribe((event) => {
        if (event.type === 'preview') previews += 1;
      });
      const end = await run.finished;
      unsubscribe();
      if (end.type !== 'done') throw new Error(`prompt ended ${end.type}`);
      const files = await client.downloadOutputs(end.outputs);
      return { previews, outputs: files.length };
    },
    close: () => client.close(),
  };
}
