// hold()/release(): execution awaits `passed()` before every node and sampler step, so a test can freeze a run
// at a known point without timers.
export class Gate {
  private opened: Promise<void> | undefined;
  private open: (() => void) | undefined;

  get held(): boolean {
    return this.opened !== undefined;
  }

  hold(): void {
    if (this.opened) return;
    this.opened = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    const open = this.open;
    this.opened = undefined;
    this.open = undefined;
    open?.();
  }

  /** Resolves immediately when not held. */
  passed(): Promise<void> {
    return this.opened ?? Promise.resolve();
  }
}
