import type { Redis } from 'ioredis';
import { clusterUnavailable, nodeRun, parseRun, type NodeRecord, type NodeRegistry } from '../cluster';
import { AppError } from '../errors';
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
 * The fleet's room directory, in Redis: `PREFIX room:ID` names the run of the
 * node that hosts the room (`NODE@STARTED`). A room lives on one node: a join
 * that reaches another node is told where it is (`place`), and the client
 * goes there. A new room goes to the ready node with the most headroom,
 * never to a draining one; the first node to claim it (SET NX) decides, so a
 * room never exists twice. Each node refreshes the entries of the rooms it
 * hosts at every heartbeat; an entry whose node the registry no longer lists
 * (killed, cut off) is stale, and the next join places the room again.
 */
export class FleetRooms {
	readonly #redis: Redis;
	readonly #registry: NodeRegistry;
	readonly #keyPrefix: string;
	readonly #heartbeatMs: number;
	readonly #hosted: () => string[];
	readonly #draining: () => boolean;
	readonly #logger: Logger;
	#timer: NodeJS.Timeout | undefined;

	/** `hosted`: the ids of the rooms open on this node; `draining`: whether it takes no new rooms. */
	constructor(deps: { redis: Redis; registry: NodeRegistry; keyPrefix: string; heartbeatMs: number; hosted: () => string[]; draining: () => boolean; logger: Logger }) {
		this.#redis = deps.redis;
		this.#registry = deps.registry;
		this.#keyPrefix = deps.keyPrefix;
		this.#heartbeatMs = deps.heartbeatMs;
		this.#hosted = deps.hosted;
		this.#draining = deps.draining;
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
	 * Where the room `roomId` is, or is to be: the node its entry names while
	 * that node is live, else the node chosen for it now (and claimed for it).
	 * NOTE: a draining node keeps the rooms it hosts (their joins still come
	 * here) but takes no new one.
	 * @throws service_unavailable (Redis away, or the room's node has no URL), draining (no node can take it)
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
		const key = this.#key(roomId);
		for (let attempt = 0; attempt < 3; attempt++) {
			const run = await this.#redis.get(key).catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			if (run !== null) {
				const named = parseRun(run);
				const host = named && await this.#registry.findLive(named.id, named.startedAt);
				if (host && !(host.id === this.#registry.nodeId && this.#draining() && !this.#hosted().includes(roomId))) {
					return this.#at(host);
				}
				// Its node is gone (or it is this draining node, which no longer has it): place it again.
				await this.#redis.eval(DELETE_IF, 1, key, run).catch((error: unknown) => {
					throw clusterUnavailable(error);
				});
				this.#logger.info('room placed again', { roomId, was: run.slice(0, 80) });
			}
			// A room open here whose entry is gone (Redis restarted empty): it stays here.
			const target = this.#hosted().includes(roomId) ? { id: this.#registry.nodeId, startedAt: this.#registry.startedAt, url: null } : this.#choose();
			if (!target) {
				throw new AppError('draining', 'no node of the fleet takes new rooms now');
			}
			const claimed = await this.#redis.set(key, nodeRun(target), 'PX', ENTRY_TTL_MS, 'NX').catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			if (claimed === 'OK') {
				this.#logger.debug('room placed', { roomId, node: target.id });
				return this.#at(target);
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

	/** The ready node (this one included) with the most headroom, never a draining one nor one clients cannot reach. */
	#choose(): NodeRecord | undefined {
		const candidates = this.#registry.nodes.filter((node) => node.state === 'ready'
			&& (node.id === this.#registry.nodeId ? !this.#draining() : node.url !== null));
		// NOTE: a node that has not measured its headroom yet (null) is taken as having the most: it has just started.
		const headroom = (node: NodeRecord) => node.headroom ?? Number.MAX_SAFE_INTEGER;
		candidates.sort((a, b) => headroom(b) - headroom(a) || a.rooms - b.rooms || a.peers - b.peers || a.id.localeCompare(b.id));
		return candidates[0];
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
		const multi = this.#redis.multi();
		for (const roomId of rooms) {
			multi.set(this.#key(roomId), this.#registry.run, 'PX', ENTRY_TTL_MS);
		}
		multi.exec().catch((error: unknown) => this.#logger.debug('room entries not refreshed', { error: (error as Error).message }));
	}

	#key(roomId: string): string {
		return `${this.#keyPrefix}room:${roomId}`;
	}
}
