import type { Redis } from 'ioredis';
import { clusterUnavailable, nodeRun, parseRun, type NodeRecord, type NodeRegistry } from '../cluster';
import { AppError } from '../errors';
import type { ClusterConfig } from '../config';
import type { Logger } from '../logging';

/** Where a room is: on this node, or at another node's URL. */
export type RoomPlace = { here: true } | { here: false; nodeId: string; url: string };

/** How long a directory entry lives without its host refreshing it (a lost fleet's entries go). */
const ENTRY_TTL_MS = 30_000;

/**
 * Deletes a directory entry only if it still names the run it was read as:
 * KEYS: the entry; ARGV: the run. Returns 1 when deleted.
 */
const DELETE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Refreshes an entry that names this run, or claims one that is missing,
 * never one of another node: KEYS: the entry; ARGV: the run, the TTL (ms).
 * Returns 1 when the entry names the run now.
 */
const CLAIM = `
local run = redis.call('GET', KEYS[1])
if run == false or run == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
`;

export type FleetRoomsDeps = {
	redis: Redis;
	registry: NodeRegistry;
	keyPrefix: string;
	heartbeatMs: number;
	/** The ids of the rooms open on this node. */
	hosted: () => string[];
	/** Whether this node takes no new peers. */
	draining: () => boolean;
	/** cluster.placement and cluster.nodeMaxPeers (home placement and no limit by default). */
	placement?: Pick<ClusterConfig, 'placement' | 'nodeMaxPeers'>;
	/** How many peers of a room each node hosts, by node id (FleetSpans.members); none known by default. */
	members?: (roomId: string) => Promise<Map<string, number>>;
	logger: Logger;
};

/**
 * The fleet's room directory, in Redis: `PREFIX room:ID` names the run of the
 * room's home node (`NODE@STARTED`), where its speaker watcher runs and,
 * with `cluster.placement` home, where its peers join first. A new room's
 * home is the ready node with the most headroom, never a draining one; the
 * first node to claim it (SET NX) decides. A room spans nodes (FleetSpans):
 * `place` says where a joining peer goes. `home`: to the home until it hosts
 * `cluster.nodeMaxPeers` of the room's peers or has no headroom, then to the
 * next of the room's nodes, then to the node it connected to, then to the
 * node with the most headroom; `nearest`: where it
 * connected. A join that reaches another node is told where to go
 * (room_elsewhere) and the client goes there. The home refreshes its entry
 * at every heartbeat; an entry whose node the registry no longer lists
 * (killed, cut off) is stale, and another node of the room claims it.
 */
export class FleetRooms {
	readonly #redis: Redis;
	readonly #registry: NodeRegistry;
	readonly #keyPrefix: string;
	readonly #heartbeatMs: number;
	readonly #hosted: () => string[];
	readonly #draining: () => boolean;
	readonly #placement: NonNullable<FleetRoomsDeps['placement']>;
	readonly #members: NonNullable<FleetRoomsDeps['members']>;
	readonly #logger: Logger;
	#timer: NodeJS.Timeout | undefined;

	constructor(deps: FleetRoomsDeps) {
		this.#redis = deps.redis;
		this.#registry = deps.registry;
		this.#keyPrefix = deps.keyPrefix;
		this.#heartbeatMs = deps.heartbeatMs;
		this.#hosted = deps.hosted;
		this.#draining = deps.draining;
		this.#placement = deps.placement ?? { placement: 'home', nodeMaxPeers: null };
		this.#members = deps.members ?? (async () => new Map());
		this.#logger = deps.logger.child({ module: 'rooms', nodeId: deps.registry.nodeId });
	}

	/** Refreshes the entries of this node's rooms at every heartbeat from now on, and at once when Redis is back. */
	start(): void {
		this.#timer = setInterval(() => this.#refresh(), this.#heartbeatMs);
		this.#timer.unref();
		this.#redis.on('ready', this.#onReady);
	}

	readonly #onReady = (): void => this.#refresh();

	/**
	 * Where a peer joining the room `roomId` through this node goes (see the
	 * class). NOTE: a draining node takes no new peer, and no node takes one
	 * when it has no headroom while another has.
	 * @throws service_unavailable (Redis away, or the chosen node has no URL), draining (no node can take it)
	 */
	async place(roomId: string): Promise<RoomPlace> {
		try {
			return await this.#place(roomId);
		} catch (error) {
			// NOTE: Redis away: a room open here still takes its joins (its host is not in doubt); others wait for Redis.
			if (error instanceof AppError && error.code === 'service_unavailable' && this.#hosted().includes(roomId)) {
				return { here: true };
			}
			throw error;
		}
	}

	async #place(roomId: string): Promise<RoomPlace> {
		const home = await this.#home(roomId);
		const self = this.#registry.nodeId;
		if (this.#placement.placement === 'nearest' && !this.#draining()) {
			return { here: true };
		}
		const members = await this.#members(roomId).catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		const usable = (node: NodeRecord) => node.state === 'ready' && (node.id === self ? !this.#draining() : node.url !== null)
			&& (node.headroom === null || node.headroom > 0);
		const record = (id: string) => this.#registry.nodes.find((node) => node.id === id);
		const byHeadroom = this.#candidates();
		// The home first, then the room's other nodes, then this node, then the others, most headroom first.
		// NOTE: this node before the others: two nodes whose views of each other's headroom lag a heartbeat
		// would otherwise each send the peer to the other.
		const order = [
			...[home.id, ...[...members.keys()].sort(), self].map(record).filter((node): node is NodeRecord => node !== undefined),
			...byHeadroom,
		].filter((node, i, all) => all.findIndex((n) => n.id === node.id) === i && usable(node));
		const max = this.#placement.nodeMaxPeers ?? Number.POSITIVE_INFINITY;
		const chosen = order.find((node) => (members.get(node.id) ?? 0) < max) ?? byHeadroom.find(usable) ?? byHeadroom[0];
		if (!chosen) {
			throw new AppError('draining', 'no node of the fleet takes new peers now');
		}
		return this.#at(chosen);
	}

	/**
	 * Whether this node is the room's home: it is when the room's entry names
	 * it, or names nobody live and this node claims it now (FleetSpans asks
	 * at every heartbeat for the rooms open here). @throws what Redis throws
	 */
	async claimHome(roomId: string): Promise<boolean> {
		const key = this.#key(roomId);
		const run = await this.#redis.get(key);
		if (run !== null && run !== this.#registry.run) {
			const named = parseRun(run);
			if (named && await this.#registry.findLive(named.id, named.startedAt)) {
				return false;
			}
			await this.#redis.eval(DELETE_IF, 1, key, run);
		}
		return await this.#redis.eval(CLAIM, 1, key, this.#registry.run, ENTRY_TTL_MS) === 1;
	}

	/** The room's home: the live node its entry names, else the node chosen for it now (and claimed for it). */
	async #home(roomId: string): Promise<Pick<NodeRecord, 'id' | 'url' | 'startedAt'>> {
		const key = this.#key(roomId);
		for (let attempt = 0; attempt < 3; attempt++) {
			const run = await this.#redis.get(key).catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			if (run !== null) {
				const named = parseRun(run);
				const host = named && await this.#registry.findLive(named.id, named.startedAt);
				if (host && !(host.id === this.#registry.nodeId && this.#draining() && !this.#hosted().includes(roomId))) {
					return host;
				}
				// Its node is gone (or it is this draining node, which no longer has it): place it again.
				await this.#redis.eval(DELETE_IF, 1, key, run).catch((error: unknown) => {
					throw clusterUnavailable(error);
				});
				this.#logger.info('room placed again', { roomId, was: run.slice(0, 80) });
			}
			// A room open here whose entry is gone (Redis restarted empty), or a new room with nearest placement: its home is here.
			const here = this.#hosted().includes(roomId) || (this.#placement.placement === 'nearest' && !this.#draining());
			const target = here ? { id: this.#registry.nodeId, startedAt: this.#registry.startedAt, url: null } : this.#candidates()[0];
			if (!target) {
				throw new AppError('draining', 'no node of the fleet takes new rooms now');
			}
			const claimed = await this.#redis.set(key, nodeRun(target), 'PX', ENTRY_TTL_MS, 'NX').catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			if (claimed === 'OK') {
				this.#logger.debug('room placed', { roomId, node: target.id });
				return target;
			}
		}
		throw clusterUnavailable(new Error('the room\'s entry kept changing'));
	}

	/** The room closed here: its entry goes (if it still names this node). */
	released(roomId: string): void {
		this.#redis.eval(DELETE_IF, 1, this.#key(roomId), this.#registry.run)
			.catch((error: unknown) => this.#logger.warn('room entry not removed', { roomId, error: (error as Error).message }));
	}

	/** Drops every entry of this node at once: its rooms move (a drain that ran out of time). */
	async releaseAll(): Promise<void> {
		for (const roomId of this.#hosted()) {
			await this.#redis.eval(DELETE_IF, 1, this.#key(roomId), this.#registry.run).catch(() => undefined);
		}
	}

	close(): void {
		clearInterval(this.#timer);
		this.#redis.off('ready', this.#onReady);
	}

	/** The ready nodes (this one included), most headroom first, never a draining one nor one clients cannot reach. */
	#candidates(): NodeRecord[] {
		const candidates = this.#registry.nodes.filter((node) => node.state === 'ready'
			&& (node.id === this.#registry.nodeId ? !this.#draining() : node.url !== null));
		// NOTE: a node that has not measured its headroom yet (null) is taken as having the most: it has just started.
		const headroom = (node: NodeRecord) => node.headroom ?? Number.MAX_SAFE_INTEGER;
		return candidates.sort((a, b) => headroom(b) - headroom(a) || a.rooms - b.rooms || a.peers - b.peers || a.id.localeCompare(b.id));
	}

	#at(node: Pick<NodeRecord, 'id' | 'url'>): RoomPlace {
		if (node.id === this.#registry.nodeId) {
			return { here: true };
		}
		if (node.url === null) {
			throw clusterUnavailable(new Error(`the room's node ${node.id} has no cluster.nodeUrl`));
		}
		return { here: false, nodeId: node.id, url: node.url };
	}

	#refresh(): void {
		const rooms = this.#hosted();
		if (rooms.length === 0) {
			return;
		}
		// NOTE: never over another node's entry: a room spanning nodes has one home.
		const multi = this.#redis.multi();
		for (const roomId of rooms) {
			multi.eval(CLAIM, 1, this.#key(roomId), this.#registry.run, ENTRY_TTL_MS);
		}
		multi.exec().catch((error: unknown) => this.#logger.debug('room entries not refreshed', { error: (error as Error).message }));
	}

	#key(roomId: string): string {
		return `${this.#keyPrefix}room:${roomId}`;
	}
}
