/**
 * SIGINT while a run trains: the first asks the loop to stop after the current epoch's
 * checkpoint (the run is then marked interrupted and resumes later); a second, where nothing
 * else listens for SIGINT, runs the last words and exits at once (code 130).
 *
 *   const watch = new InterruptWatch(() => log('stopping after this epoch'), () => markInterrupted());
 *   watch.install(); … if (watch.requested) …; watch.remove();
 */

/** Watches SIGINT while training: the first asks to stop at the next checkpoint, a second exits where nothing else listens. */
export class InterruptWatch {
  requested = false;
  private exitOnSecond = false;
  private readonly handler = () => {
    if (!this.requested) {
      this.requested = true;
      this.onFirst();
    } else if (this.exitOnSecond) {
      this.onSecond();
      process.exit(130);
    }
  };

  constructor(
    private readonly onFirst: () => void,
    private readonly onSecond: () => void,
  ) {}

  install(): void {
    this.exitOnSecond = process.listenerCount('SIGINT') === 0;
    process.on('SIGINT', this.handler);
  }

  remove(): void {
    process.removeListener('SIGINT', this.handler);
  }
}
