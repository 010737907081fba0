// The one owner of everything that must be undone: the pty and its processes, listeners, sockets,
// SSH servers and clients, raw mode, timers, the transcript. Each registers when it is made and
// leaves when it is released; every exit path (the hotkey, a peer gone, a signal, a crash) runs
// what is left once. Like xterm.js's Disposable: what a part makes, it registers.
//
// Order: steps marked `first` (killing the shared shell and everything it started) run before
// all others, then the rest newest first. A step that throws never stops the ones after it. A step
// may return a promise (a goodbye that must leave before its socket closes): run() starts every
// step at once in that order and `finished` waits for the slow ones, each bounded by its own time.

type Undo = () => void | Promise<void>;

interface Step {
  name: string;
  undo: Undo;
  first: boolean;
}

export interface TeardownFailure {
  step: string;
  error: string;
}

export class Teardown {
  private steps: Step[] = [];
  private started = false;
  private settled: Promise<void> = Promise.resolve();
  /** Steps that threw, for the events log. */
  readonly failures: TeardownFailure[] = [];

  /** Registers an undo step. Returns its release: runs it now, once, and takes it off the list. */
  add(name: string, undo: Undo, o: { first?: boolean } = {}): () => void {
    const step: Step = { name, undo, first: o.first ?? false };
    if (this.started) {
      void this.runStep(step);
      return () => {};
    }
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      void this.runStep(step);
    };
  }

  /** Whether run() has started: whatever is added from now on is undone at once. */
  get done(): boolean {
    return this.started;
  }

  /** Runs every registered step once: the `first` ones, then the rest newest first. Returns
   * `finished`. Calling it again changes nothing. */
  run(): Promise<void> {
    if (this.started) return this.settled;
    this.started = true;
    const order = [...this.steps.filter((s) => s.first).reverse(), ...this.steps.filter((s) => !s.first).reverse()];
    this.steps = [];
    this.settled = Promise.all(order.map((s) => this.runStep(s))).then(() => {});
    return this.settled;
  }

  /** Resolves once every step of run() has finished, the slow ones included. */
  get finished(): Promise<void> {
    return this.settled;
  }

  private runStep(step: Step): Promise<void> {
    try {
      const r = step.undo();
      return r instanceof Promise ? r.catch((err: unknown) => this.failed(step, err)) : Promise.resolve();
    } catch (err) {
      // Teardown must go on: one failed step (say, an already closed socket) cannot skip the rest.
      this.failed(step, err);
      return Promise.resolve();
    }
  }

  private failed(step: Step, err: unknown): void {
    this.failures.push({ step: step.name, error: err instanceof Error ? err.message : String(err) });
  }
}
