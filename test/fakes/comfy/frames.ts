// Binary WebSocket frames as ComfyUI's `protocol.py` lays them out (big-endian u32 fields).

const BinaryType = { PreviewImage: 1, Text: 3, PreviewImageWithMetadata: 4 } as const;

export type ImageFormat = 'jpeg' | 'png';

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value, 0);
  return buffer;
}

/** Type 1: `u32 type, u32 image_type (1 JPEG, 2 PNG), bytes`. */
export function previewFrame(format: ImageFormat, image: Buffer): Buffer {
  return Buffer.concat([u32(BinaryType.PreviewImage), u32(format === 'jpeg' ? 1 : 2), image]);
}

export interface PreviewMetadata {
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: string | null;
  real_node_id: string;
  image_type: 'image/jpeg' | 'image/png';
}

/** Type 4: `u32 type, u32 metadata length, metadata JSON, bytes`. */
export function previewWithMetadataFrame(metadata: PreviewMetadata, image: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(metadata));
  return Buffer.concat([u32(BinaryType.PreviewImageWithMetadata), u32(json.length), json, image]);
}

/** Type 3: `u32 type, u32 node id length, node id, text`. */
export function textFrame(nodeId: string, text: string): Buffer {
  const id = Buffer.from(nodeId);
  return Buffer.concat([u32(BinaryType.Text), u32(id.length), id, Buffer.from(text)]);
}

/** A binary type no ComfyUI version defines, to prove clients ignore what they do not know. */
export function unknownFrame(): Buffer {
  return Buffer.concat([u32(99), Buffer.from('unknown payload')]);
}
