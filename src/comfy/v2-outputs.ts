// v2 outputs in the shape the rest of the project already handles: a flat `Output[]` becomes per-node UI dicts
// whose items are FileRefs carrying the v2 asset id and URL, so `planOutputs` and the delivery code need no v2
// branch. Downloads go to the Output's `url`; an expired URL (or one minted before a proxy restart) is refreshed by
// re-reading the job, which mints fresh ones.
import { planOutputs, sniffMime } from './outputs.js';
import type { FileRef, NodeOutput, OutputFile } from './types.js';
import type { V2Http, V2Output } from './v2-http.js';

/** The UI-dict key ComfyUI would have used for this output type. */
const KIND: Record<string, string> = { image: 'images', video: 'video', audio: 'audio', text: 'text_files', file: 'files', latent: 'latents' };

export interface V2FileRef extends FileRef {
  v2: { id: string; url: string; contentType: string };
}

export function outputsOfJob(outputs: readonly V2Output[]): Record<string, NodeOutput> {
  const byNode: Record<string, Record<string, V2FileRef[]>> = {};
  for (const o of outputs) {
    const kind = KIND[o.type] ?? 'files';
    const node = (byNode[o.node_id] ??= {});
    (node[kind] ??= []).push({ filename: o.name, subfolder: '', type: 'output', v2: { id: o.id, url: o.url, contentType: o.content_type } });
  }
  return byNode;
}

function isV2Ref(ref: FileRef): ref is V2FileRef {
  const v2 = (ref as Partial<V2FileRef>).v2;
  return typeof v2 === 'object' && v2 !== null && typeof v2.url === 'string';
}

/** Downloads every file output; `refresh` re-reads the job for fresh URLs when one no longer works. */
export async function downloadV2Outputs(
  http: V2Http,
  outputs: Record<string, NodeOutput>,
  nodeFilter: string[] | undefined,
  refresh: () => Promise<readonly V2Output[]>,
): Promise<OutputFile[]> {
  let fresh: Promise<readonly V2Output[]> | undefined;
  const files: OutputFile[] = [];
  for (const item of planOutputs(outputs, nodeFilter)) {
    if (item.source !== 'file' || !isV2Ref(item.ref)) continue;
    const ref = item.ref;
    let got = await http.download(ref.v2.url);
    if (!got) {
      fresh ??= refresh();
      const again = (await fresh).find((o) => o.node_id === item.node && o.name === ref.filename);
      if (again) got = await http.download(again.url);
    }
    if (!got) throw new Error(`output ${ref.filename} of node ${item.node} could not be downloaded from ${http.name} (its URL expired and re-reading the job gave no working one)`);
    files.push({ node: item.node, ref, kind: item.kind, mime: sniffMime(got.bytes, ref.filename), bytes: got.bytes });
  }
  return files;
}
