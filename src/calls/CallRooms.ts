import type { Claims, TokenService } from '../auth';
import type { Logger } from '../logging';
import type { User } from '../store';
import { TypedEmitter } from '../util';
import { CALL_ROOM_PREFIX, isCallRoom, type Call } from './Call';
import type { CallBook } from './CallBook';
import type { CallServiceAccessEvents, PartyRemovedReason } from './events';
import type { PartyIdentity } from './fleet';

/**
 * Who may be in a call's room (`call-<callId>`): its current parties, each on
 * the login session it placed or answered the call with, through room tokens
 * bound to that session (`psid`). A party that leaves the call loses its
 * place at once: `partyRemoved` on `events` puts its peers out, on this node
 * and (through the book) on every other.
 */
export class CallRooms {
	/** What the signaling layer acts on: room access revoked. */
	readonly events: TypedEmitter<CallServiceAccessEvents>;
	readonly #book: CallBook;
	readonly #tokens: TokenService;
	readonly #logger: Logger;

	constructor(deps: { book: CallBook; tokens: TokenService; logger: Logger }) {
		this.#book = deps.book;
		this.#tokens = deps.tokens;
		this.#logger = deps.logger;
		this.events = new TypedEmitter((event, error) => this.#logger.error('calls listener failed', { event, error }));
	}

	/**
	 * Whether the bearer may join the call room `roomId` now: the token grants
	 * exactly that room (a `*` grant never covers a call), and its `sub` is a
	 * current party of the live call (its caller, or a callee who accepted and
	 * has not hung up), on the login session the token was issued to when the
	 * token names one (`psid`); with the device the party placed or answered
	 * the call with, if it named one. Undefined for a room of no live call.
	 */
	async mayJoin(claims: Claims, roomId: string): Promise<{ identity?: PartyIdentity } | undefined> {
		if (!isCallRoom(roomId) || !claims.rooms?.includes(roomId)) {
			return undefined;
		}
		const party = await this.#book.party(roomId.slice(CALL_ROOM_PREFIX.length), claims.sub);
		if (party === undefined) {
			return undefined;
		}
		const bound = claims.psid ?? claims.sid;
		return bound === undefined || bound === party.sid ? { identity: party.identity } : undefined;
	}

	/** A token for the call's room, bound to the login session `sid` of the device it goes to. */
	async token(user: User, call: Call, sid: string): Promise<string> {
		return this.#tokens.issue({ sub: user.id, handle: user.handle, name: user.displayName, verified: user.verified, premium: user.premium, rooms: [call.roomId], psid: sid });
	}

	/** The party `userId` is no longer in the call: its peers leave the room, here and on the other nodes. */
	removeParty(call: Call, userId: string, reason: PartyRemovedReason): void {
		this.#logger.debug('room access revoked', { callId: call.id, userId, reason });
		const removal = { callId: call.id, roomId: call.roomId, userId, reason };
		this.events.safeEmit('partyRemoved', removal);
		this.#book.partyRemoved(removal);
	}

	/** Another node's call lost a party: its peers here leave the call's room. */
	removedElsewhere(removal: CallServiceAccessEvents['partyRemoved'][0]): void {
		this.events.safeEmit('partyRemoved', removal);
	}
}
