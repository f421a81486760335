import type { Socket } from 'socket.io';
import { AppError, InvalidStateError } from '../errors';
import type { PeerView, Room } from '../rooms';
import type { RequestData, ResponseData, ServerEventData, ServerEventName } from './protocol';

/** The socket.io room of a peer's connection, through which a fleet's nodes reach it wherever it is connected. */
export function peerRoom(peerId: string): string {
	return `peer:${peerId}`;
}

/** Sends `event` to the connections of the other peers of `room` than `peer`, on this node or another. */
export function toOthers<E extends ServerEventName>(socket: Socket, room: Room, peer: PeerView, event: E, payload: ServerEventData<E>): void {
	const others = [...room.exchange.everyone()].filter((other) => other.id !== peer.id).map((other) => peerRoom(other.id));
	if (others.length > 0) {
		socket.to(others).emit(event, payload);
	}
}

/**
 * Sender keys between the peers of a call's room (docs/e2ee.md). A peer
 * sends its new sender key wrapped for each other peer's device; each goes,
 * as the opaque bytes it is, to that peer's connection (`e2ee.key`), on this
 * node or another (the fleet's socket.io adapter). Nothing is stored and
 * nothing is logged: the relay only checks who may send to whom.
 */
export class KeyRelay {
	/**
	 * Test hook: a wrapped key from `from` to `to` is dropped when it says so
	 * (the browser test of a device given no sender keys). Unset in production.
	 */
	withhold: ((from: PeerView, to: PeerView) => boolean) | undefined;

	/**
	 * Relays `keys` from `peer` of `room`, sent on `socket`. Only a peer with a
	 * device (a call party in an encrypted room) sends, and only to the room's
	 * other peers: an entry for anyone else (one who just left, say) is dropped.
	 * @throws invalid_state for a peer without a device
	 */
	relay(socket: Socket, room: Room, peer: PeerView, { keys }: RequestData<'e2ee.keys'>): ResponseData<'e2ee.keys'> {
		if (!peer.identity || !peer.e2ee) {
			throw new InvalidStateError('sender keys are for the end-to-end encrypted rooms of calls');
		}
		const others = new Map<string, PeerView>();
		for (const other of room.exchange.everyone()) {
			if (other.id !== peer.id) {
				others.set(other.id, other);
			}
		}
		if (new Set(keys.map((key) => key.to)).size !== keys.length) {
			throw new AppError('validation_failed', 'keys: one entry per peer');
		}
		let delivered = 0;
		for (const { to, wrapped } of keys) {
			const other = others.get(to);
			if (!other || this.withhold?.(peer, other)) {
				continue;
			}
			socket.to(peerRoom(to)).emit('e2ee.key', { from: peer.id, wrapped });
			delivered++;
		}
		return { delivered };
	}
}
