// The one owner of cleanup: everything that must be undone (pty, sockets, timers, raw mode,
// firewall rules) registers here, and every exit path runs it exactly once, newest first.

type Undo = () => void;

export class Cleanup {
  private undos: { name: string; undo: Undo }[] = [];
  private done = false;

  /** Registers an undo step; returns a function that runs it early (and only once). */
  add(name: string, undo: Undo): () => void {
    const entry = { name, undo };
    if (this.done) {
      safely(undo);
      return () => {};
    }
    this.undos.push(entry);
    return () => {
      const i = this.undos.indexOf(entry);
      if (i >= 0) {
        this.undos.splice(i, 1);
        safely(undo);
      }
    };
  }

  get finished(): boolean {
    return this.done;
  }

  /** Runs every registered step once, newest first; a failing step never stops the others. */
  run(): void {
    if (this.done) return;
    this.done = true;
    while (this.undos.length > 0) safely(this.undos.pop()!.undo);
  }
}

function safely(undo: Undo): void {
  try {
    undo();
  } catch {
    // Cleanup must go on: one failed step (say, an already closed socket) cannot skip the rest.
  }
}
