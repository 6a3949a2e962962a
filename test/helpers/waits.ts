/** Test plumbing: wait for a condition that events (messages, closes) make true, without polling. */

/** Resolves `until(pred)` once `pred` holds, re-checked on every `wake()`; rejects after `ms`. */
export class Waits {
  private waiters: (() => void)[] = [];

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  until<T>(pred: () => T | undefined | false | null, what: string, ms = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      const check = () => {
        const v = pred();
        if (v) {
          clearTimeout(timer);
          resolve(v);
        } else this.waiters.push(check);
      };
      check();
    });
  }
}
