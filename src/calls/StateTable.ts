import { InvalidStateError } from '../errors';

/**
 * A state machine as a table: each state and the states it may become. A
 * state no transition leaves is final.
 */
export class StateTable<S extends string> {
	readonly #transitions: Readonly<Record<S, readonly S[]>>;

	constructor(transitions: Readonly<Record<S, readonly S[]>>) {
		this.#transitions = transitions;
	}

	can(from: S, to: S): boolean {
		return this.#transitions[from].includes(to);
	}

	/** @throws InvalidStateError for a transition the table does not have. */
	assert(from: S, to: S): void {
		if (!this.can(from, to)) {
			throw new InvalidStateError(`the call is ${from}, it cannot become ${to}`);
		}
	}

	isFinal(state: S): boolean {
		return this.#transitions[state].length === 0;
	}
}
