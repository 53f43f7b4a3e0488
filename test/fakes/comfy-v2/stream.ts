// One SSE stream of the fake v2 server, bridged from the fake ComfyUI's /ws the way comfy-api-proxy does it
// (one socket per stream, clientId = job id): ComfyUI messages become `status`, `progress`, `preview` and
// `output` frames. Proxy quirks kept on purpose: `progress` from `progress_state` counts only the nodes reported
// so far (so `value` is not monotonic), the `output` frame comes before the terminal `status`, and nothing
// (no preview) is replayed on connect.
import type { ServerResponse } from 'node:http';
import WebSocket from 'ws';

export type StreamStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired' | 'canceling';

export interface StreamHooks {
  /** The job's outputs as v2 Output objects for one ComfyUI `executed` message. */
  outputsOf(node: string, output: Record<string, unknown>): unknown[];
  /** The job's status as a poll would read it now. */
  poll(): Promise<{ status: StreamStatus; queue_position: number | null }>;
  /** The last preview to push on connect (cloud follows the spec); undefined = no replay (the proxy). */
  replayPreview: { node_id: string; content_type: string; data_base64: string } | undefined;
  onPreview(preview: { node_id: string; content_type: string; data_base64: string }): void;
  onClose(): void;
}

const TERMINAL: ReadonlySet<StreamStatus> = new Set(['succeeded', 'failed', 'canceled', 'expired']);

export class EventStream {
  private socket: WebSocket | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private closed = false;
  private status: StreamStatus | undefined;
  private currentNode: string | null = null;
  private nodesSeen = new Map<string, { done: boolean }>();

  constructor(
    private readonly res: ServerResponse,
    private readonly jobId: string,
    private readonly upstreamWs: string,
    private readonly keepaliveMs: number,
    private readonly hooks: StreamHooks,
  ) {
    res.on('close', () => this.end());
  }

  async open(): Promise<void> {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const first = await this.hooks.poll();
    if (TERMINAL.has(first.status)) {
      this.sendStatus(first.status, null);
      this.finish();
      return;
    }
    this.socket = new WebSocket(`${this.upstreamWs}?clientId=${encodeURIComponent(this.jobId)}`);
    this.socket.on('message', (data, isBinary) => this.onUpstream(data as Buffer, isBinary));
    this.socket.on('error', () => this.finish());
    this.socket.on('close', () => this.finish());
    await new Promise<void>((resolve) => this.socket!.once('open', () => resolve()).once('error', () => resolve()));
    if (this.closed) return;
    // The snapshot: the status as polled now, then a zero progress; never the last preview (proxy).
    const now = await this.hooks.poll();
    this.sendStatus(now.status, now.queue_position);
    this.send('progress', { value: 0.0, nodes_done: 0, nodes_total: 0 });
    if (this.hooks.replayPreview) this.send('preview', this.hooks.replayPreview);
    if (TERMINAL.has(now.status)) return this.finish();
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), this.keepaliveMs);
  }

  /** Server-side abort without a terminal status (a proxy crash, a load balancer timeout). */
  drop(): void {
    this.res.destroy();
    this.end();
  }

  /** Stop writing anything (keepalives too) while keeping the connection open. */
  stall(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
    this.socket?.removeAllListeners('message');
  }

  private onUpstream(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const type = data.readUInt32BE(0);
      if (type === 1 && data.readUInt32BE(4) === 1) {
        const preview = { node_id: this.currentNode ?? '', content_type: 'image/jpeg', data_base64: data.subarray(8).toString('base64') };
        this.hooks.onPreview(preview);
        this.send('preview', preview);
      }
      return;
    }
    let message: { type?: string; data?: Record<string, unknown> };
    try {
      message = JSON.parse(data.toString('utf8')) as typeof message;
    } catch {
      return;
    }
    const d = message.data ?? {};
    if (d.prompt_id !== undefined && d.prompt_id !== this.jobId) return;
    switch (message.type) {
      case 'execution_start':
        return this.sendStatus('running', null);
      case 'executing':
        if (typeof d.node === 'string') this.currentNode = d.node;
        return;
      case 'progress_state': {
        const nodes = Object.values((d.nodes ?? {}) as Record<string, { state?: string; node_id?: string }>);
        this.nodesSeen = new Map(nodes.map((n) => [String(n.node_id), { done: n.state === 'finished' }]));
        return this.sendProgress(null, null);
      }
      case 'progress':
        this.currentNode = typeof d.node === 'string' ? d.node : this.currentNode;
        return this.sendProgress(Number(d.value), Number(d.max));
      case 'executed':
        if (typeof d.node === 'string' && d.output && typeof d.output === 'object') {
          for (const output of this.hooks.outputsOf(d.node, d.output as Record<string, unknown>)) this.send('output', output);
        }
        return;
      case 'execution_success':
        this.sendStatus('succeeded', null);
        return this.finish();
      case 'execution_error':
        if (d.exception_type === 'ExecutionBlocked') return;
        this.sendStatus('failed', null);
        return this.finish();
      case 'execution_interrupted':
        this.sendStatus('canceled', null);
        return this.finish();
      default:
        return;
    }
  }

  /** As the proxy computes it: nodes reported so far, a running sampler counted by its step fraction. */
  private sendProgress(step: number | null, steps: number | null): void {
    const total = this.nodesSeen.size;
    const done = [...this.nodesSeen.values()].filter((n) => n.done).length;
    const fraction = step !== null && steps ? step / steps : 0;
    const value = total === 0 ? 0 : Math.min(1, (done + (step !== null ? fraction : 0)) / total);
    this.send('progress', {
      value, nodes_done: done, nodes_total: total, current_node: step !== null ? this.currentNode : null, step, steps,
    });
  }

  private sendStatus(status: StreamStatus, position: number | null): void {
    if (status === this.status && position === null) return;
    this.status = status;
    this.send('status', position === null ? { status } : { status, queue_position: position });
  }

  private send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    if (!this.closed) this.res.write(text);
  }

  /** The stream closes right after the terminal status. */
  private finish(): void {
    if (this.closed) return;
    this.res.end();
    this.end();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    this.socket?.removeAllListeners();
    this.socket?.on('error', () => undefined);
    this.socket?.close();
    this.hooks.onClose();
  }
}
