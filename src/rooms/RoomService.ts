import { z } from 'zod';
import type { Logger } from '../logging';
import { askEveryNode, type Fleet } from './everyNode';
import type { Removals } from './Removals';
import { RoomControls } from './RoomControls';
import type { RoomRegistry } from './RoomRegistry';

const track = z.object({ id: z.string().max(64), kind: z.enum(['audio', 'video']), source: z.string().max(16), paused: z.boolean() });
const participant = z.object({
	peerId: z.string().max(64),
	/** The token's `sub`: an account id, a guest id, or the identity a backend minted. */
	identity: z.string().max(128),
	name: z.string().max(64),
	handle: z.string().max(64).optional(),
	node: z.string().max(64),
	tracks: z.array(track).max(16),
});
const roomSummary = z.object({ roomId: z.string().max(64), e2ee: z.boolean(), participants: z.array(participant).max(1000) });
/** A `rooms.putOut` cast: another node's message, read as untrusted. */
const putOut = z.object({ roomId: z.string().max(64), identity: z.string().max(128).optional(), reason: z.enum(['removed', 'roomEnded']) });
/** A node's answer to `rooms.list`: another node's message, read as untrusted. */
const roomsList = z.object({ rooms: z.array(roomSummary).max(100_000) });

export type ParticipantSummary = z.infer<typeof participant>;
export type RoomSummary = z.infer<typeof roomSummary> & { nodes: string[] };

/**
 * Rooms for the server API (docs/server-api.md). `list`: this node's rooms,
 * or on a fleet every live node's (a `rooms.list` request over the bus to
 * each, in parallel), a room that spans nodes merged into one with the
 * participants of each part; a node that does not answer is named in
 * `unreachable`, not guessed at. `remove` puts a participant out of a room
 * on every node (`rooms.putOut` cast) and keeps its older tokens out
 * (Removals); `end` puts everyone out. `controls` mutes and updates
 * participants and sends them data messages (RoomControls).
 */
export class RoomService {
	/** Mute, metadata, permissions and data messages of participants (RoomControls). */
	readonly controls: RoomControls;
	readonly #registry: RoomRegistry;
	readonly #fleet: Fleet | undefined;
	readonly #nodeId: string;
	readonly #logger: Logger;

	readonly #removals: Removals;

	constructor(deps: { registry: RoomRegistry; removals: Removals; nodeId: string; fleet?: Fleet; logger: Logger }) {
		this.#registry = deps.registry;
		this.#removals = deps.removals;
		this.#fleet = deps.fleet;
		this.#nodeId = deps.nodeId;
		this.#logger = deps.logger;
		this.controls = new RoomControls(deps);
		this.#fleet?.bus.handle('rooms.list', z.object({}), async () => ({ rooms: this.#local() }));
		this.#fleet?.bus.listen('rooms.putOut', putOut, (order) => this.#putOut(order));
	}

	/**
	 * Puts the participants of `identity` out of `roomId` (each gets `room.removed` `removed`), on every
	 * node; its tokens issued until now no longer join the room. @throws service_unavailable (a fleet without Redis)
	 */
	async remove(roomId: string, identity: string): Promise<void> {
		await this.#removals.add(roomId, identity);
		this.#everywhere({ roomId, identity, reason: 'removed' });
	}

	/** Puts everyone out of `roomId` (`room.removed` `roomEnded`), on every node; anyone may join it again. */
	end(roomId: string): void {
		this.#everywhere({ roomId, reason: 'roomEnded' });
	}

	/** Whether the token `claims` is one the server API removed from `roomId`. @throws service_unavailable */
	refused(roomId: string, claims: { sub: string; iat?: number }): Promise<boolean> {
		return this.#removals.refused(roomId, claims.sub, claims.iat);
	}

	#everywhere(order: z.infer<typeof putOut>): void {
		this.#putOut(order);
		this.#fleet?.bus.cast('rooms.putOut', order);
	}

	#putOut({ roomId, identity, reason }: z.infer<typeof putOut>): void {
		const room = this.#registry.get(roomId);
		for (const peer of [...room?.peers.values() ?? []]) {
			if (identity === undefined || peer.claims.sub === identity) {
				// NOTE: the event first: leave() drops the peer's connection.
				peer.notify({ type: 'removed', reason });
				room!.leave(peer, 'removed');
			}
		}
	}

	async list(): Promise<{ rooms: RoomSummary[]; unreachable: string[] }> {
		const fleet = this.#fleet;
		if (!fleet) {
			return { rooms: merge([[this.#nodeId, this.#local()]]), unreachable: [] };
		}
		const { answers, unreachable } = await askEveryNode(fleet, 'rooms.list', {}, roomsList);
		if (unreachable.length > 0) {
			this.#logger.warn('rooms not listed: nodes did not answer', { unreachable });
		}
		return { rooms: merge(answers.map(([node, answer]) => [node, answer.rooms] as const)), unreachable };
	}

	/** This node's rooms, with the participants connected here. */
	#local(): z.infer<typeof roomSummary>[] {
		return [...this.#registry.rooms()].map((room) => {
			const peers = [...room.peers.values()].filter((peer) => !peer.closed);
			return {
				roomId: room.id,
				e2ee: peers.some((peer) => peer.e2ee),
				participants: peers.map((peer) => ({
					peerId: peer.id, identity: peer.claims.sub, name: peer.displayName, ...(peer.handle ? { handle: peer.handle } : {}), node: this.#nodeId,
					tracks: [...peer.producers.values()].map((p) => ({ id: p.id, kind: p.kind, source: p.appData.source, paused: p.paused })),
				})),
			};
		});
	}
}

/** One entry per room id, the parts' participants together and the nodes that host a part, sorted by room id. */
function merge(answers: (readonly [node: string, rooms: z.infer<typeof roomSummary>[]])[]): RoomSummary[] {
	const rooms = new Map<string, RoomSummary>();
	for (const [node, parts] of answers) {
		for (const room of parts) {
			const entry = rooms.get(room.roomId) ?? { roomId: room.roomId, e2ee: false, participants: [], nodes: [] };
			entry.e2ee ||= room.e2ee;
			entry.participants.push(...room.participants);
			entry.nodes = [...new Set([...entry.nodes, node])].sort();
			rooms.set(room.roomId, entry);
		}
	}
	return [...rooms.values()].sort((a, b) => (a.roomId < b.roomId ? -1 : 1));
}
