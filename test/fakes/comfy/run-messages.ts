// The WebSocket messages of one prompt run, routed like ComfyUI: owner-only events, events that fall back to
// every socket when the prompt has no client_id, and the `add_message` events that also go into history.
import { previewFrame, previewWithMetadataFrame, type ImageFormat } from './frames.js';
import type { SocketHub } from './socket-hub.js';

export interface RunMessengerOptions {
  /** `progress_state` exists since 0.3.45 (not in the legacy profile). */
  progressState: boolean;
  /** The owner negotiated `supports_preview_metadata`: previews are type 4, sent before their `progress`. */
  previewMetadata: boolean;
}

export class RunMessenger {
  /** The `add_message` events, for history `status.messages`. */
  readonly messages: [string, Record<string, unknown>][] = [];
  private readonly progressNodes: Record<string, Record<string, unknown>> = {};

  constructor(
    private readonly hub: SocketHub,
    readonly promptId: string,
    /** The submitting client_id; undefined = nobody owns the prompt. */
    private readonly sid: string | undefined,
    private readonly options: RunMessengerOptions,
  ) {}

  /** `add_message`: timestamped, kept for history, sent to the owner (to everyone when `broadcast` and no owner). */
  add(event: string, data: Record<string, unknown>, broadcast = false): void {
    const stamped = { ...data, timestamp: Date.now() };
    this.messages.push([event, stamped]);
    if (this.sid !== undefined || broadcast) this.hub.send({ type: event, data: stamped }, this.sid);
  }

  /** `executing` / `executed`: nobody hears them when the prompt has no client_id. */
  toOwner(type: string, data: Record<string, unknown>): void {
    if (this.sid !== undefined) this.hub.send({ type, data }, this.sid);
  }

  /** The cumulative map of started nodes, re-sent on every change. */
  progressState(node: string, value: number, max: number, state: 'running' | 'finished' | 'error'): void {
    this.progressNodes[node] = {
      value, max, state, node_id: node, prompt_id: this.promptId, display_node_id: node, parent_node_id: null, real_node_id: node,
    };
    if (!this.options.progressState) return;
    this.hub.send({ type: 'progress_state', data: { prompt_id: this.promptId, nodes: structuredClone(this.progressNodes) } }, this.sid);
  }

  /**
   * A node returned an ExecutionBlocker: ComfyUI sends this with send_sync, not add_message (no timestamp, not in
   * history), to the owner or to everyone, and the prompt goes on.
   */
  blocked(node: string, classType: string, executed: string[], message: string): void {
    this.hub.send({
      type: 'execution_error',
      data: {
        prompt_id: this.promptId, node_id: node, node_type: classType, executed, exception_message: message,
        exception_type: 'ExecutionBlocked', traceback: [], current_inputs: [], current_outputs: [],
      },
    }, this.sid);
  }

  progress(node: string, value: number, max: number): void {
    this.hub.send({ type: 'progress', data: { value, max, prompt_id: this.promptId, node } }, this.sid);
  }

  /** A progress tick with its preview: type 4 then `progress` for metadata clients, else `progress` then type 1. */
  preview(node: string, value: number, max: number, format: ImageFormat, image: Buffer): void {
    if (!this.options.previewMetadata) {
      this.progress(node, value, max);
      this.hub.sendBinary(previewFrame(format, image), this.sid);
      return;
    }
    this.hub.sendBinary(previewWithMetadataFrame({
      node_id: node, prompt_id: this.promptId, display_node_id: node, parent_node_id: null, real_node_id: node,
      image_type: format === 'jpeg' ? 'image/jpeg' : 'image/png',
    }, image), this.sid);
    this.progress(node, value, max);
  }
}
