import { z } from 'zod';
import { AppError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import { askEveryNode, type Fleet } from './everyNode';
import type { Peer } from './Peer';
import type { Permissions } from './PeerControls';
import type { Room } from './Room';
import type { RoomRegistry } from './RoomRegistry';

/** The longest metadata a participant may carry, in characters (the API counts bytes: docs/server-api.md). */
export const METADATA_MAX = 1024;
/** The longest data message, in characters (the API counts bytes). */
export const DATA_MAX = 16 * 1024;

// The orders of the server API to the nodes, over the bus: another node's messages, read as untrusted.
const who = { roomId: z.string().max(64), identity: z.string().max(128) };
const muteOrder = z.object({ ...who, producerId: z.string().max(64).optional(), kind: z.enum(['audio', 'video']).optional(), muted: z.boolean() });
const muteAnswer = z.object({ participants: z.number().int().min(0), tracks: z.number().int().min(0) });
const updateOrder = z.object({
	...who,
	metadata: z.string().max(METADATA_MAX).optional(),
	permissions: z.object({ canPublish: z.boolean().optional(), canSubscribe: z.boolean().optional() }).optional(),
});
const updateAnswer = z.object({ peers: z.array(z.string().max(64)).max(1000) });
const peersUpdated = z.object({ roomId: z.string().max(64), peers: z.array(z.string().max(64)).max(1000), metadata: z.string().max(METADATA_MAX) });
const dataOrder = z.object({
	roomId: z.string().max(64), data: z.string().max(DATA_MAX), topic: z.string().max(128).optional(),
	identities: z.array(z.string().max(128)).max(100).optional(),
});
const dataAnswer = z.object({ delivered: z.number().int().min(0) });

export type MuteOrder = Omit<z.infer<typeof muteOrder>, 'roomId' | 'identity'>;
export type ParticipantUpdate = Omit<z.infer<typeof updateOrder>, 'roomId' | 'identity'>;
export type DataMessage = Omit<z.infer<typeof dataOrder>, 'roomId'>;

/**
 * The server API's controls of participants (docs/server-api.md), on every
 * node of a fleet: a request to each live node (`rooms.mute`,
 * `rooms.update`, `rooms.data`), which applies it to the peers of the
 * identity connected there and answers what it found; the metadata is then
 * told to the room's peers on every node (`rooms.peersUpdated` cast).
 *
 * Mute pauses the tracks and marks their sources muted by the service
 * (PeerControls): the peer may not resume them until allowed again; allowing
 * only lifts the mark. The server never turns a microphone or camera on.
 */
export class RoomControls {
	readonly #registry: RoomRegistry;
	readonly #fleet: Fleet | undefined;
	readonly #logger: Logger;

	constructor(deps: { registry: RoomRegistry; fleet?: Fleet; logger: Logger }) {
		this.#registry = deps.registry;
		this.#fleet = deps.fleet;
		this.#logger = deps.logger.child({ module: 'rooms' });
		const bus = this.#fleet?.bus;
		bus?.handle('rooms.mute', muteOrder, (order) => this.#mute(order));
		bus?.handle('rooms.update', updateOrder, async (order) => this.#update(order));
		bus?.handle('rooms.data', dataOrder, async (order) => this.#data(order));
		bus?.listen('rooms.peersUpdated', peersUpdated, (update) => this.#peersUpdated(update));
	}

	/**
	 * Mutes (or allows to unmute) the tracks of `identity` in `roomId` that `order` picks: its
	 * `producerId`, or every track of its `kind`. @throws not_found (no such participant or track), service_unavailable
	 */
	async mute(roomId: string, identity: string, order: MuteOrder): Promise<{ participants: number; tracks: number }> {
		const answers = await this.#everyNode('rooms.mute', { roomId, identity, ...order }, muteAnswer, (o) => this.#mute(o));
		const found = { participants: sum(answers, (a) => a.participants), tracks: sum(answers, (a) => a.tracks) };
		if (found.tracks === 0) {
			throw new NotFoundError(found.participants === 0 ? 'no such participant in the room' : 'the participant has no such track');
		}
		return found;
	}

	/** Sets the metadata and permissions of `identity`'s peers in `roomId`. @throws not_found, service_unavailable */
	async update(roomId: string, identity: string, update: ParticipantUpdate): Promise<{ participants: number }> {
		const answers = await this.#everyNode('rooms.update', { roomId, identity, ...update }, updateAnswer, async (o) => this.#update(o));
		const peers = answers.flatMap((a) => a.peers);
		if (peers.length === 0) {
			throw new NotFoundError('no such participant in the room');
		}
		if (update.metadata !== undefined) {
			const told = { roomId, peers, metadata: update.metadata };
			this.#peersUpdated(told);
			this.#fleet?.bus.cast('rooms.peersUpdated', told);
		}
		return { participants: peers.length };
	}

	/** Sends `message` to every participant of `roomId`, or to those of `message.identities`. @throws service_unavailable */
	async send(roomId: string, message: DataMessage): Promise<{ delivered: number }> {
		const answers = await this.#everyNode('rooms.data', { roomId, ...message }, dataAnswer, async (o) => this.#data(o));
		return { delivered: sum(answers, (a) => a.delivered) };
	}

	/**
	 * `local` here alone; on a fleet `method` on every live node. @throws service_unavailable when a
	 * node did not answer (what it hosts is unknown: the caller may try again; what was done stays done)
	 */
	async #everyNode<B, S extends z.ZodType>(method: string, body: B, result: S, local: (body: B) => Promise<z.infer<S>>): Promise<z.infer<S>[]> {
		if (!this.#fleet) {
			return [await local(body)];
		}
		const { answers, unreachable } = await askEveryNode(this.#fleet, method, body, result);
		if (unreachable.length > 0) {
			this.#logger.warn('server API order not answered by every node', { method, unreachable });
			throw new AppError('service_unavailable', `nodes did not answer: ${unreachable.join(', ')}; try again`);
		}
		return answers.map(([, answer]) => answer);
	}

	/** The room here and the peers of `identity` in it. */
	#peersOf(roomId: string, identity: string): { room: Room | undefined; peers: Peer[] } {
		const room = this.#registry.get(roomId);
		return { room, peers: [...room?.peers.values() ?? []].filter((peer) => !peer.closed && peer.claims.sub === identity) };
	}

	async #mute({ roomId, identity, producerId, kind, muted }: z.infer<typeof muteOrder>): Promise<z.infer<typeof muteAnswer>> {
		const { peers } = this.#peersOf(roomId, identity);
		let tracks = 0;
		for (const peer of peers) {
			for (const producer of [...peer.producers.values()]) {
				if ((producerId !== undefined && producer.id !== producerId) || (kind !== undefined && producer.kind !== kind)) {
					continue;
				}
				tracks++;
				const source = producer.appData.source;
				peer.controls.setMuted(source, muted);
				if (muted && !producer.paused) {
					// NOTE: the others see a pause like the peer's own (consumer.paused): its media stops.
					await producer.pause().catch(() => undefined);
				}
				peer.notify({ type: 'producerMuted', producerId: producer.id, source, muted });
				this.#logger.info(muted ? 'track muted by the service' : 'track allowed to unmute', { roomId, peerId: peer.id, producerId: producer.id });
			}
		}
		return { participants: peers.length, tracks };
	}

	#update({ roomId, identity, metadata, permissions }: z.infer<typeof updateOrder>): z.infer<typeof updateAnswer> {
		const { room, peers } = this.#peersOf(roomId, identity);
		for (const peer of peers) {
			if (metadata !== undefined) {
				peer.controls.metadata = metadata;
			}
			if (permissions) {
				this.#permit(room!, peer, permissions);
			}
		}
		return { peers: peers.map((peer) => peer.id) };
	}

	/** The peer is told its permissions first, then what they closed. The client publishes again itself. */
	#permit(room: Room, peer: Peer, permissions: Partial<Permissions>): void {
		const changed = peer.controls.permit(permissions);
		peer.notify({ type: 'permissions', ...peer.controls.permissions });
		if (changed.canPublish === false) {
			for (const producer of [...peer.producers.values()]) {
				room.closeProducer(peer, producer.id);
				peer.notify({ type: 'producerClosed', producerId: producer.id, reason: 'notPermitted' });
			}
		}
		if (changed.canSubscribe === false) {
			peer.subscriptions.closeAll();
		} else if (changed.canSubscribe === true) {
			room.exchange.consumeAll(peer);
		}
		if (Object.keys(changed).length > 0) {
			this.#logger.info('participant permissions changed', { roomId: room.id, peerId: peer.id, ...peer.controls.permissions });
		}
	}

	#peersUpdated({ roomId, peers, metadata }: z.infer<typeof peersUpdated>): void {
		for (const peer of this.#registry.get(roomId)?.peers.values() ?? []) {
			for (const peerId of peers) {
				peer.notify({ type: 'peerUpdated', peerId, metadata });
			}
		}
	}

	#data({ roomId, data, topic, identities }: z.infer<typeof dataOrder>): z.infer<typeof dataAnswer> {
		let delivered = 0;
		for (const peer of this.#registry.get(roomId)?.peers.values() ?? []) {
			if (!peer.closed && peer.link && (!identities || identities.includes(peer.claims.sub))) {
				peer.notify({ type: 'data', data, ...(topic === undefined ? {} : { topic }) });
				delivered++;
			}
		}
		return { delivered };
	}
}

function sum<T>(values: T[], of: (value: T) => number): number {
	return values.reduce((total, value) => total + of(value), 0);
}
