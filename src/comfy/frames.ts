// Binary WebSocket frames: a big-endian u32 event type, then a type-specific body.
import type { PreviewMime } from './types.js';

export interface PreviewMetadata {
  node_id?: string;
  prompt_id?: string;
  display_node_id?: string;
  parent_node_id?: string | null;
  real_node_id?: string;
  image_type?: string;
  [key: string]: unknown;
}

export type BinaryFrame =
  /** Type 1: a preview with no prompt id (servers that did not negotiate metadata). */
  | { kind: 'preview'; mime: PreviewMime; bytes: Buffer }
  /** Type 4: a preview tagged with the prompt and node it belongs to. */
  | { kind: 'preview-with-metadata'; mime: PreviewMime; metadata: PreviewMetadata; bytes: Buffer }
  /** Type 3: progress text of a node (carries no prompt id). */
  | { kind: 'text'; nodeId: string; text: string }
  | { kind: 'unknown'; eventType: number }
  | { kind: 'malformed'; eventType: number; reason: string };

const IMAGE_FORMATS: Record<number, PreviewMime> = { 1: 'image/jpeg', 2: 'image/png' };

function previewMime(imageType: unknown): PreviewMime | undefined {
  return imageType === 'image/jpeg' || imageType === 'image/png' || imageType === 'image/webp' ? imageType : undefined;
}

/** Never throws: custom nodes may send frame types this client does not know, and those are ignored. */
export function parseBinaryFrame(frame: Buffer): BinaryFrame {
  if (frame.length < 4) return { kind: 'malformed', eventType: -1, reason: `frame of ${frame.length} bytes has no type` };
  const eventType = frame.readUInt32BE(0);
  const malformed = (reason: string): BinaryFrame => ({ kind: 'malformed', eventType, reason });
  switch (eventType) {
    case 1: {
      if (frame.length < 8) return malformed('preview frame shorter than its header');
      const format = frame.readUInt32BE(4);
      const mime = IMAGE_FORMATS[format];
      if (!mime) return malformed(`unknown preview image format ${format}`);
      return { kind: 'preview', mime, bytes: frame.subarray(8) };
    }
    case 3: {
      if (frame.length < 8) return malformed('text frame shorter than its header');
      const len = frame.readUInt32BE(4);
      if (8 + len > frame.length) return malformed(`node id length ${len} exceeds the frame`);
      return {
        kind: 'text',
        nodeId: frame.subarray(8, 8 + len).toString('utf8'),
        text: frame.subarray(8 + len).toString('utf8'),
      };
    }
    case 4: {
      if (frame.length < 8) return malformed('preview frame shorter than its header');
      const len = frame.readUInt32BE(4);
      if (8 + len > frame.length) return malformed(`metadata length ${len} exceeds the frame`);
      let metadata: PreviewMetadata;
      try {
        metadata = JSON.parse(frame.subarray(8, 8 + len).toString('utf8')) as PreviewMetadata;
      } catch {
        return malformed('preview metadata is not JSON');
      }
      if (typeof metadata !== 'object' || metadata === null) return malformed('preview metadata is not an object');
      const mime = previewMime(metadata.image_type);
      if (!mime) return malformed(`unknown preview image type ${String(metadata.image_type)}`);
      return { kind: 'preview-with-metadata', mime, metadata, bytes: frame.subarray(8 + len) };
    }
    default:
      return { kind: 'unknown', eventType };
  }
}
