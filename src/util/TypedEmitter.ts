import { EventEmitter } from 'node:events';

/** Maps each event name to the tuple of its arguments. */
export type EventMap = Record<string, unknown[]>;

/**
 * An EventEmitter whose events and arguments are typed. `safeEmit` calls each
 * listener in turn and reports a listener that throws to `onListenerError`
 * instead of letting it unwind into the emitter's own code.
 */
export class TypedEmitter<Events extends EventMap> {
	readonly #emitter = new EventEmitter();
	readonly #onListenerError: (event: string, error: unknown) => void;

	constructor(onListenerError: (event: string, error: unknown) => void) {
		this.#onListenerError = onListenerError;
		this.#emitter.setMaxListeners(Infinity);
	}

	on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
		this.#emitter.on(event, listener as (...args: unknown[]) => void);
		return this;
	}

	once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
		this.#emitter.once(event, listener as (...args: unknown[]) => void);
		return this;
	}

	off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
		this.#emitter.off(event, listener as (...args: unknown[]) => void);
		return this;
	}

	safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
		// NOTE: rawListeners() gives once() listeners as their self-removing wrappers.
		for (const listener of this.#emitter.rawListeners(event)) {
			try {
				(listener as (...a: unknown[]) => void)(...args);
			} catch (error) {
				this.#onListenerError(event, error);
			}
		}
	}

	listenerCount<K extends keyof Events & string>(event: K): number {
		return this.#emitter.listenerCount(event);
	}
}
