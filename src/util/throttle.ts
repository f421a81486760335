/**
 * Calls `fn` at most once per `intervalMs`: the first call goes through at
 * once, later ones within the interval collapse into one trailing call with
 * the latest arguments. The timer never keeps the process alive.
 */
export function throttle<A extends unknown[]>(intervalMs: number, fn: (...args: A) => void): (...args: A) => void {
	let last = 0;
	let pending: A | undefined;
	let timer: NodeJS.Timeout | undefined;
	return (...args: A) => {
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
}
