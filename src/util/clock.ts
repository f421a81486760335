/** A timer a `Clock` handed out: only that clock's `clearTimeout` understands it. */
export type Timer = object;

/**
 * Time as a service sees it: injected, so that tests pass a fake clock
 * (test/helpers/fakeClock.ts) and move it on instead of waiting.
 */
export type Clock = {
	/** Milliseconds since the epoch. */
	now(): number;
	setTimeout(fn: () => void, ms: number): Timer;
	/** Stops a timer that has not fired; no-op for undefined or a fired timer. */
	clearTimeout(timer: Timer | undefined): void;
};

/** The process's own time and timers. */
export const systemClock: Clock = {
	now: () => Date.now(),
	setTimeout: (fn, ms) => setTimeout(fn, ms),
	clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
