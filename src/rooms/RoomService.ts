import { z } from 'zod';
import type { Logger } from '../logging';
import { askEveryNode, type Fleet } from './everyNode';
import { AppError } from '../errors';
import type { Removals } from './Removals';
import type { RoomSettings, RoomSettingsStore } from './RoomSettings';
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
export type RoomSummary = z.infer<typeof roomSummary> & { nodes: string[]; settings?: RoomSettings };

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
	readonly #settings: RoomSettingsStore;

	constructor(deps: { registry: RoomRegistry; removals: Removals; settings: RoomSettingsStore; nodeId: string; fleet?: Fleet; logger: Logger }) {
		this.#registry = deps.registry;
		this.#removals = deps.removals;
		this.#settings = deps.settings;
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

	/**
	 * Creates `roomId` with `settings` (replacing those it had): every node opens it with them. A room
	 * open now keeps its cap and timeout until it closes; the e2ee rule holds for every join from now.
	 * @throws service_unavailable (a fleet without Redis)
	 */
	async create(roomId: string, settings: RoomSettings): Promise<void> {
		await this.#settings.set(roomId, settings);
	}

	/**
	 * Refuses a join of the token `claims` to `roomId` the server API ruled out: a removed participant's
	 * older token (forbidden), a plain peer of a room created e2ee (e2ee_mismatch). A join keeps a created
	 * room's settings. @throws forbidden, e2ee_mismatch, service_unavailable
	 */
	async assertAdmits(roomId: string, claims: { sub: string; iat?: number }, e2ee: boolean): Promise<void> {
		if (await this.#removals.refused(roomId, claims.sub, claims.iat)) {
			throw new AppError('forbidden', 'the token does not grant this room');
		}
		if ((await this.#settings.get(roomId, { touch: true }))?.e2ee && !e2ee) {
			throw new AppError('e2ee_mismatch', 'this room is end-to-end encrypted: join with e2ee', { details: { e2ee: true } });
		}
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
			return { rooms: await this.#withSettings(merge([[this.#nodeId, this.#local()]])), unreachable: [] };
		}
		const { answers, unreachable } = await askEveryNode(fleet, 'rooms.list', {}, roomsList);
		if (unreachable.length > 0) {
			this.#logger.warn('rooms not listed: nodes did not answer', { unreachable });
		}
		return { rooms: await this.#withSettings(merge(answers.map(([node, answer]) => [node, answer.rooms] as const))), unreachable };
	}

	/** The rooms, those the API created with their settings. */
	async #withSettings(rooms: RoomSummary[]): Promise<RoomSummary[]> {
		return Promise.all(rooms.map(async (room) => {
			const settings = await this.#settings.get(room.roomId);
			return settings ? { ...room, settings } : room;
		}));
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
