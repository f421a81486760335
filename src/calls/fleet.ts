import { AppError } from '../errors';
import type { CallMedia as Media } from '../store';
import type { LegState, Withdrawn } from './legState';

/**
 * The device a party takes part with (docs/e2ee.md): its id and the public
 * key its account published, read from the store when it placed or answered
 * the call. The other parties wrap their sender keys for it.
 */
export type PartyIdentity = { deviceId: string; key: string };

/** A party of a call as its room needs it: the login session it takes part on, and its device. */
export type CallParty = { sid: string; identity?: PartyIdentity };

/**
 * A call as the node that owns it publishes it for the rest of a fleet: who
 * its parties are, on which login sessions and devices, and how far each leg
 * has gone. Enough for another node to check a join to its room, to send a
 * request to its owner, and to take it over when the owner dies.
 */
export type CallSnapshot = {
	id: string;
	/** The node that owns it: runs its timers, writes its history, answers its requests. */
	owner: string;
	media: Media;
	startedAt: number;
	caller: { id: string; handle: string; sid: string; device: string; identity?: PartyIdentity };
	legs: { id: string; handle: string; state: LegState; withdrawn?: Withdrawn; /** `withdrawn` as nodes before it read it. */ silenced: boolean; sid?: string; identity?: PartyIdentity; acceptedAt?: number }[];
};

/** Who acts on a call: an account's login session (the `sub` and `sid` of its token). */
export type Party = { sub: string; sid?: string };

/** What a node asks of the node that owns a call, with what it answers. */
export type RemoteCallRequests = {
	accept: { args: { party: Party; device: string; identity?: PartyIdentity }; result: { callId: string; roomId: string; token: string } };
	decline: { args: { party: Party; device: string }; result: null };
	cancel: { args: { party: Party }; result: null };
	hangup: { args: { party: Party }; result: null };
	token: { args: { party: Party }; result: { roomId: string; token: string } };
};
export type RemoteCallRequest = keyof RemoteCallRequests;

/**
 * The rest of the fleet, as the calls of one node see it
 * (cluster/FleetCalls.ts). A node alone has none: every call is its own.
 */
export interface CallFleet {
	/** This node's id: the owner of the calls placed here. */
	readonly nodeId: string;
	/** Publishes a call this node owns: before its callees ring, and at each change. @throws service_unavailable */
	save(call: CallSnapshot): Promise<void>;
	/** The call has ended (best effort: an entry left behind expires). */
	remove(call: CallSnapshot): void;
	/** The call `callId`, wherever it is owned, or undefined. @throws service_unavailable */
	get(callId: string): Promise<CallSnapshot | undefined>;
	/** Calls owned by other nodes of which `userId` is a party (the caller, or a callee in it). @throws service_unavailable */
	partyCalls(userId: string): Promise<CallSnapshot[]>;
	/** Sends `request` to the node that owns the call. @throws not_found (no such call), service_unavailable */
	send<R extends RemoteCallRequest>(call: CallSnapshot, request: R, args: RemoteCallRequests[R]['args']): Promise<RemoteCallRequests[R]['result']>;
	/** Tells every other node that a party lost its place in the call's room (their peers in it leave). */
	partyRemoved(removal: { callId: string; roomId: string; userId: string; reason: 'hangup' | 'callEnded' }): void;
	/** Tells every other node to re-check its ringing calls that involve `userId` (a block, a settings change). */
	recheck(userId: string): void;
}

/** The login session of an account token. @throws unauthorized for any other token (a room token cannot act on calls) */
export function loginSession(claims: Party): string {
	if (!claims.sid) {
		throw new AppError('unauthorized', 'calls need an account token');
	}
	return claims.sid;
}

/** Who acts, as a request to another node carries it. @throws unauthorized as loginSession */
export function partyOf(claims: Party): Party {
	return { sub: claims.sub, sid: loginSession(claims) };
}

/** How `userId` is a party of the call (its login session and device), if it is one. */
export function snapshotParty(call: CallSnapshot, userId: string): CallParty | undefined {
	if (call.caller.id === userId) {
		return { sid: call.caller.sid, identity: call.caller.identity };
	}
	const leg = call.legs.find((l) => l.id === userId);
	return leg?.state === 'accepted' && leg.sid !== undefined ? { sid: leg.sid, identity: leg.identity } : undefined;
}
