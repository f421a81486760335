import { NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { Call, Leg } from './Call';
import type { PartyRemovedReason } from './events';
import { snapshotParty, type CallFleet, type CallParty, type CallSnapshot, type Party, type RemoteCallRequest, type RemoteCallRequests } from './fleet';

/**
 * The calls this node owns, and the way to the others. A node alone owns
 * every call there is. A node of a fleet publishes each of its own at every
 * change (the fleet's CallFleet), and finds a call it does not own there: to
 * send a request to its owner, to check a join to its room, or to know that
 * an account is in a call elsewhere.
 */
export class CallBook {
	readonly #calls = new Map<string, Call>();
	readonly #fleet: CallFleet | undefined;
	readonly #logger: Logger;

	constructor(fleet: CallFleet | undefined, logger: Logger) {
		this.#fleet = fleet;
		this.#logger = logger;
	}

	/** Calls this node owns (ringing or active). */
	get size(): number {
		return this.#calls.size;
	}

	/** The call `callId` if this node owns it. */
	get(callId: string): Call | undefined {
		return this.#calls.get(callId);
	}

	values(): Call[] {
		return [...this.#calls.values()];
	}

	add(call: Call): void {
		this.#calls.set(call.id, call);
	}

	/**
	 * Publishes the call with the `legs` just rung, before anyone hears them
	 * (so that a device on another node can answer at once). When that fails,
	 * they never rang, and a call that `isNew` is gone again.
	 * @throws service_unavailable
	 */
	async publish(call: Call, { legs, isNew }: { legs: Leg[]; isNew: boolean }): Promise<void> {
		try {
			await this.#fleet?.save(call.snapshot(this.#fleet.nodeId));
		} catch (error) {
			legs.forEach((leg) => call.unring(leg));
			if (isNew) {
				call.close();
				this.ended(call);
			}
			throw error;
		}
	}

	/** Publishes a change of the call (best effort; each save is sent before the next, so they land in order). */
	changed(call: Call): void {
		this.#fleet?.save(call.snapshot(this.#fleet.nodeId))
			.catch((error: unknown) => this.#logger.warn('call state not published', { callId: call.id, error: (error as Error).message }));
	}

	/** The call has ended: it leaves the book, and the fleet. */
	ended(call: Call): void {
		this.#calls.delete(call.id);
		this.#fleet?.remove(call.snapshot(this.#fleet.nodeId));
	}

	/** A party lost its place in the call's room: the other nodes put their peers of it out too. */
	partyRemoved(removal: { callId: string; roomId: string; userId: string; reason: PartyRemovedReason }): void {
		this.#fleet?.partyRemoved(removal);
	}

	/** The other nodes re-check their ringing calls that involve `userId`. */
	recheckElsewhere(userId: string): void {
		this.#fleet?.recheck(userId);
	}

	/**
	 * Sends a request for a call this node does not own to its owner.
	 * @throws not_found for no such call (as for one of its own), service_unavailable
	 */
	async send<R extends RemoteCallRequest>(callId: string, request: R, args: RemoteCallRequests[R]['args']): Promise<RemoteCallRequests[R]['result']> {
		const call = await this.#fleet?.get(callId);
		if (!call || call.owner === this.#fleet!.nodeId) {
			throw new NotFoundError('no such call');
		}
		return this.#fleet!.send(call, request, args);
	}

	/** How `userId` is a party of the call `callId` (login session, device), wherever it is owned. */
	async party(callId: string, userId: string): Promise<CallParty | undefined> {
		const call = this.#calls.get(callId);
		if (call || !this.#fleet) {
			return call?.party(userId);
		}
		const elsewhere = await this.#fleet.get(callId);
		return elsewhere && snapshotParty(elsewhere, userId);
	}

	/** Whether the account is a party of a call other than `callId`, here or elsewhere. */
	async inAnotherCall(userId: string, callId: string | undefined): Promise<boolean> {
		if (this.values().some((other) => other.id !== callId && other.isParty(userId))) {
			return true;
		}
		return (await this.#fleet?.partyCalls(userId) ?? []).some((other) => other.id !== callId);
	}

	/** Whether a call of `callerId` rings `calleeId` now, owned here or by another node (a spam report counts for it). */
	async ringing(callerId: string, calleeId: string): Promise<boolean> {
		if (this.values().some((call) => call.caller.id === callerId && call.legOf(calleeId)?.state === 'ringing')) {
			return true;
		}
		const elsewhere = await this.#fleet?.partyCalls(callerId) ?? [];
		return elsewhere.some((call) => call.caller.id === callerId && call.legs.some((leg) => leg.id === calleeId && leg.state === 'ringing'));
	}

	/** Hangs `party` up from every call owned elsewhere that it is in (call waiting: it answered another). */
	async hangUpElsewhere(party: Party): Promise<void> {
		for (const other of await this.#fleet?.partyCalls(party.sub) ?? []) {
			await this.#fleet!.send(other, 'hangup', { party })
				.catch((error: unknown) => this.#logger.warn('call waiting: the other call did not hang up', { callId: other.id, error: (error as Error).message }));
		}
	}

	/** The calls this node owns, as the fleet sees them. */
	snapshots(): CallSnapshot[] {
		return this.#fleet ? this.values().map((call) => call.snapshot(this.#fleet!.nodeId)) : [];
	}

	/** Stops every call's timers and forgets them: the node is closing. */
	close(): void {
		for (const call of this.#calls.values()) {
			call.close();
		}
		this.#calls.clear();
	}
}
