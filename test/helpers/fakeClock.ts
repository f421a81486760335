import type { Clock, Timer } from '../../src/util';

type FakeTimer = { at: number; seq: number; fn: () => void };

/**
 * A Clock that moves only when a test moves it: `advance(ms)` runs the timers
 * due by then, earliest first (in order of creation for the same time), and
 * lets pending promises and I/O callbacks run after each, so what a timer
 * starts (a store write, a socket emit) has happened when it resolves. No
 * test waits for real time to pass a timeout.
 */
export class FakeClock implements Clock {
	#now: number;
	#seq = 0;
	readonly #timers = new Set<FakeTimer>();

	/** `start`: the clock's first `now()`, by default the real time. */
	constructor(start = Date.now()) {
		this.#now = start;
	}

	now(): number {
		return this.#now;
	}

	setTimeout(fn: () => void, ms: number): Timer {
		const timer: FakeTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
		this.#timers.add(timer);
		return timer;
	}

	clearTimeout(timer: Timer | undefined): void {
		this.#timers.delete(timer as FakeTimer);
	}

	/** Timers set and neither fired nor cleared. */
	get pending(): number {
		return this.#timers.size;
	}

	/** Moves the clock on by `ms`, running each timer as its time comes (a timer a timer sets too). */
	async advance(ms: number): Promise<void> {
		const until = this.#now + ms;
		for (let next = this.#due(until); next; next = this.#due(until)) {
			this.#timers.delete(next);
			this.#now = next.at;
			next.fn();
			await settle();
		}
		this.#now = until;
		await settle();
	}

	#due(until: number): FakeTimer | undefined {
		let first: FakeTimer | undefined;
		for (const timer of this.#timers) {
			if (timer.at <= until && (!first || timer.at < first.at || (timer.at === first.at && timer.seq < first.seq))) {
				first = timer;
			}
		}
		return first;
	}
}

/** Lets promise callbacks and one turn of I/O run. */
async function settle(): Promise<void> {
	await new Promise<void>((resolve) => setImmediate(resolve));
}
