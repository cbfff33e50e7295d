/**
 * The time port. Services that decide by time (expiry, coalescing windows, deadlines, backoff) ask a `Clock`
 * instead of `Date.now()`, so that unit tests can drive them with `FixedClock` or Jest's fake timers.
 * `SystemClock` is bound globally (`ClockModule` in @app/platform).
 */
export abstract class Clock {
  /** Milliseconds since the epoch. */
  abstract now(): number;

  /** `now()` as a Date. */
  date(): Date {
    return new Date(this.now());
  }

  /** The instant `ms` from now. */
  after(ms: number): Date {
    return new Date(this.now() + ms);
  }
}

/** Wall-clock time (`Date.now()`, which Jest's modern fake timers also control). */
export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock that moves only when told: for unit tests. */
export class FixedClock extends Clock {
  constructor(private current: number = Date.UTC(2026, 0, 1)) {
    super();
  }

  now(): number {
    return this.current;
  }

  set(ms: number): void {
    this.current = ms;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
