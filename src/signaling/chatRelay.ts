import { randomUUID } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Socket } from 'socket.io';
import { AppError } from '../errors';
import type { PeerView, Room } from '../rooms';
import { toOthers } from './keyRelay';
import type { RequestData, ResponseData } from './protocol';

/**
 * Chat between the peers of a room (docs/protocol.md, chat.send). A message
 * goes to each other peer's connection (`chat.message`), on this node or
 * another (the fleet's socket.io adapter), and is kept nowhere. In an
 * end-to-end encrypted room only `sealed` messages pass, which the node
 * cannot read. Each peer may send `perMinute` a minute; a peer's messages all
 * pass its own node, so the count is this node's.
 */
export class ChatRelay {
	readonly #limiter: RateLimiterMemory;
	readonly #perMinute: number;

	constructor(perMinute: number) {
		this.#perMinute = perMinute;
		this.#limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
	}

	/** @throws e2ee_mismatch, validation_failed, rate_limited */
	async send(socket: Socket, room: Room, peer: PeerView, request: RequestData<'chat.send'>): Promise<ResponseData<'chat.send'>> {
		if ('text' in request && peer.e2ee) {
			throw new AppError('e2ee_mismatch', 'this room is end-to-end encrypted: send the message sealed', { details: { e2ee: true } });
		}
		if ('sealed' in request && !peer.e2ee) {
			throw new AppError('validation_failed', 'sealed: only in an end-to-end encrypted room');
		}
		await this.#limiter.consume(peer.id).catch(() => {
			throw new AppError('rate_limited', `at most ${this.#perMinute} chat messages a minute`);
		});
		const message = { id: randomUUID(), from: peer.id, name: peer.displayName, ...request, at: Date.now() };
		toOthers(socket, room, peer, 'chat.message', message);
		return { id: message.id, at: message.at };
	}
}
