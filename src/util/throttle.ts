/** A throttled function, and a way to drop the trailing call it may hold. */
export type Throttled<A extends unknown[]> = ((...args: A) => void) & { cancel(): void };

/**
 * Calls `fn` at most once per `intervalMs`: the first call goes through at
 * once, later ones within the interval collapse into one trailing call with
 * the latest arguments. `cancel()` drops a held trailing call (the thing it
 * reports on closed). The timer never keeps the process alive.
 */
export function throttle<A extends unknown[]>(intervalMs: number, fn: (...args: A) => void): Throttled<A> {
	let last = 0;
	let pending: A | undefined;
	let timer: NodeJS.Timeout | undefined;
	const throttled = (...args: A) => {
		const now = Date.now();
		if (now - last >= intervalMs && !timer) {
			last = now;
			fn(...args);
			return;
		}
		pending = args;
		timer ??= setTimeout(() => {
			timer = undefined;
			last = Date.now();
			const latest = pending as A;
			pending = undefined;
			fn(...latest);
		}, Math.max(0, intervalMs - (now - last))).unref();
	};
	return Object.assign(throttled, {
		cancel() {
			clearTimeout(timer);
			timer = undefined;
			pending = undefined;
		},
	});
}
