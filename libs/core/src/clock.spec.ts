import { FixedClock, SystemClock } from './clock';

describe('Clock', () => {
  it('FixedClock moves only when told, and date/after follow it', () => {
    const clock = new FixedClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.date().getTime()).toBe(1_500);
    expect(clock.after(250).getTime()).toBe(1_750);
    clock.set(10);
    expect(clock.now()).toBe(10);
  });

  it('SystemClock follows Date.now (so Jest fake timers control it)', () => {
    jest.useFakeTimers({ now: 42_000 });
    try {
      const clock = new SystemClock();
      expect(clock.now()).toBe(42_000);
      jest.advanceTimersByTime(1_000);
      expect(clock.now()).toBe(43_000);
    } finally {
      jest.useRealTimers();
    }
  });
});
