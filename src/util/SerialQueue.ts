/**
 * Runs tasks one at a time, in the order they were queued. A task that fails
 * rejects its own run() and does not stop the ones after it.
 */
export class SerialQueue {
	#tail: Promise<unknown> = Promise.resolve();

	run<T>(task: () => Promise<T>): Promise<T> {
		const result = this.#tail.then(task, task);
		this.#tail = result.catch(() => undefined);
		return result;
	}
}
