import type { Redis } from 'ioredis';
import type { Logger } from '../logging';
import { TypedEmitter, type Clock } from '../util';
import { NODE_RECORD_VERSION, nodeRecordSchema, type NodeRecord, type NodeStatus } from './nodeRecord';
import { clusterUnavailable } from './redis';

/**
 * The fleet's node registry, in Redis: each node keeps its record under
 * `PREFIX node:ID` with a time to live of two heartbeats, and its id in the
 * sorted set `PREFIX nodes` scored by its last heartbeat. A node that stops
 * heartbeating (killed, cut off) drops out within two heartbeats; one that
 * closes leaves at once. Every heartbeat also reads the others' records, so
 * `nodes` and metrics need no query of their own. It uses a Redis connection
 * it does not own (node.ts's, shared with the limits).
 */
export type NodeRegistryEvents = {
	/** A node this one had listed is gone: it closed, or was silent for two heartbeats. */
	nodeGone: [nodeId: string, startedAt: number];
};

export class NodeRegistry {
	readonly nodeId: string;
	readonly observer: TypedEmitter<NodeRegistryEvents>;
	readonly #redis: Redis;
	readonly #keyPrefix: string;
	readonly #heartbeatMs: number;
	readonly #url: string | null;
	readonly #status: () => NodeStatus;
	readonly #release: string;
	readonly #startedAt: number;
	readonly #clock: Clock;
	readonly #logger: Logger;
	#timer: ReturnType<Clock['setTimeout']> | undefined;
	#available = false;
	/** A failed heartbeat has been logged since the last good one (one warning an outage). */
	#warned = false;
	#seen: NodeRecord[] = [];
	readonly #urls = new Set<string>();
	/** The runs of other nodes listed since, by id, with when each started: those not listed any more are gone. */
	readonly #known = new Map<string, number>();
	/** Since when heartbeats have got through without a break. */
	#availableSince: number | undefined;
	#closed = false;

	constructor(deps: {
		redis: Redis; nodeId: string; url: string | null; heartbeatMs: number; keyPrefix: string; release: string;
		status: () => NodeStatus; clock: Clock; logger: Logger;
	}) {
		this.nodeId = deps.nodeId;
		this.#redis = deps.redis;
		this.#keyPrefix = deps.keyPrefix;
		this.#heartbeatMs = deps.heartbeatMs;
		this.#url = deps.url;
		this.#status = deps.status;
		this.#release = deps.release;
		this.#clock = deps.clock;
		this.#startedAt = deps.clock.now();
		this.#logger = deps.logger.child({ module: 'cluster', nodeId: deps.nodeId });
		this.observer = new TypedEmitter((event, error) => this.#logger.error('cluster listener failed', { event, error }));
	}

	/** When this node started: with its id, it tells this run of the node from an earlier one. */
	get startedAt(): number {
		return this.#startedAt;
	}

	/** This run of this node, as what nodes publish of each other names it (nodeRun). */
	get run(): string {
		return nodeRun({ id: this.nodeId, startedAt: this.#startedAt });
	}

	/**
	 * Node `nodeId` (its run that started at `startedAt`, when given) if it is
	 * live: this node, one the last heartbeat listed, or one whose record Redis
	 * has now (a node that has just started is missing from the list for up to
	 * a heartbeat). Undefined when it is gone. @throws service_unavailable
	 */
	async findLive(nodeId: string, startedAt?: number): Promise<Pick<NodeRecord, 'id' | 'url' | 'startedAt'> | undefined> {
		const matches = (node: { startedAt: number }) => startedAt === undefined || node.startedAt === startedAt;
		if (nodeId === this.nodeId) {
			return matches({ startedAt: this.#startedAt }) ? { id: this.nodeId, url: this.#url, startedAt: this.#startedAt } : undefined;
		}
		const node = this.#seen.find((n) => n.id === nodeId && matches(n)) ?? await this.fetch(nodeId);
		return node && matches(node) ? node : undefined;
	}

	/** Whether the last heartbeat reached Redis: false while it is away (/readyz says `cluster_unavailable`). */
	get available(): boolean {
		return this.#available;
	}

	/**
	 * The URL of every node this one has listed since it started. NOTE: for
	 * what pages may connect to (CSP, the origin check): a node that drops out
	 * of the list for a moment (a late heartbeat on a busy machine) stays in.
	 */
	get urls(): string[] {
		return [...this.#urls];
	}

	/**
	 * Whether a node reported gone (nodeGone) is still gone `heartbeats`
	 * heartbeats later. NOTE: a live node on a loaded machine can miss two
	 * heartbeats and be back: what tears down state shared with it (its part
	 * of a room, media pipes) asks this first. False when Redis cannot say.
	 */
	async stillGone(nodeId: string, startedAt: number, heartbeats = 2): Promise<boolean> {
		await new Promise((resolve) => this.#clock.setTimeout(() => resolve(undefined), heartbeats * this.#heartbeatMs));
		try {
			return !this.#closed && !await this.findLive(nodeId, startedAt);
		} catch {
			return false;
		}
	}

	/** The live nodes as of the last heartbeat, this one included, by id. */
	get nodes(): readonly NodeRecord[] {
		return this.#seen;
	}

	/**
	 * The record of node `nodeId` as Redis has it now, or undefined when it has
	 * none (gone, or never there). NOTE: for a node the last heartbeat's list
	 * does not have yet: one that has just started is missing from it for up to a heartbeat.
	 * @throws service_unavailable
	 */
	async fetch(nodeId: string): Promise<NodeRecord | undefined> {
		const text = await this.#redis.get(this.#recordKey(nodeId)).catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		return text === null ? undefined : parseRecord(text);
	}

	/** Registers and heartbeats from now on; resolves after the first attempt, registered or not. */
	async start(): Promise<void> {
		await this.#beat();
	}

	/** Stops heartbeating and leaves the registry (best effort: Redis may be away); idempotent. The connection is the caller's. */
	async close(): Promise<void> {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		this.#clock.clearTimeout(this.#timer);
		await this.#redis.multi().del(this.#recordKey(this.nodeId)).zrem(this.#key('nodes'), this.nodeId).exec().catch(() => undefined);
	}

	async #beat(): Promise<void> {
		try {
			await this.#publish();
			this.#seen = await this.#read();
			for (const node of this.#seen) {
				if (node.url !== null) {
					this.#urls.add(node.url);
				}
			}
			this.#availableSince ??= this.#clock.now();
			this.#noticeGone();
			if (!this.#available) {
				this.#available = true;
				this.#warned = false;
				this.#logger.info('cluster node registered', { nodes: this.#seen.length });
			}
		} catch (error) {
			if (!this.#warned) {
				this.#warned = true;
				this.#logger.warn('cluster heartbeat failed', { error: (error as Error).message });
			}
			this.#available = false;
			this.#availableSince = undefined;
		}
		if (!this.#closed) {
			this.#timer = this.#clock.setTimeout(() => void this.#beat(), this.#heartbeatMs);
		}
	}

	/**
	 * Tells of each node listed before that is not any more. NOTE: only once
	 * this node has had Redis for two heartbeats without a break: after an
	 * outage (or a Redis restart, which forgets every record) the other nodes
	 * need a heartbeat to publish again, and are not gone meanwhile.
	 */
	#noticeGone(): void {
		const settled = this.#clock.now() - this.#availableSince! >= 2 * this.#heartbeatMs;
		for (const [id, startedAt] of this.#known) {
			const listed = this.#seen.some((node) => node.id === id && node.startedAt === startedAt);
			if (!listed && settled) {
				this.#known.delete(id);
				this.#logger.info('cluster node gone', { gone: id });
				this.observer.safeEmit('nodeGone', id, startedAt);
			}
		}
		for (const node of this.#seen) {
			if (node.id !== this.nodeId) {
				this.#known.set(node.id, node.startedAt);
			}
		}
	}

	async #publish(): Promise<void> {
		const now = this.#clock.now();
		const record: NodeRecord = {
			v: NODE_RECORD_VERSION, id: this.nodeId, url: this.#url, ...this.#status(), release: this.#release, startedAt: this.#startedAt, at: now,
		};
		const result = await this.#redis.multi()
			.set(this.#recordKey(this.nodeId), JSON.stringify(record), 'PX', 2 * this.#heartbeatMs)
			.zadd(this.#key('nodes'), now, this.nodeId)
			// Ids whose record expired long ago: the set must not grow with every restart of a fleet.
			.zremrangebyscore(this.#key('nodes'), '-inf', now - 10 * this.#heartbeatMs)
			.exec();
		const failed = result?.find(([error]) => error);
		if (!result || failed) {
			throw clusterUnavailable(failed?.[0] ?? new Error('the transaction was discarded'));
		}
	}

	/** The records of the nodes heard from within two heartbeats, each checked against the schema. */
	async #read(): Promise<NodeRecord[]> {
		const ids = await this.#redis.zrangebyscore(this.#key('nodes'), this.#clock.now() - 2 * this.#heartbeatMs, '+inf');
		if (ids.length === 0) {
			return [];
		}
		const texts = await this.#redis.mget(ids.map((id) => this.#recordKey(id)));
		const records: NodeRecord[] = [];
		for (const [i, text] of texts.entries()) {
			if (text === null) {
				continue; // Expired between the two reads: gone.
			}
			const parsed = parseRecord(text);
			if (parsed) {
				records.push(parsed);
			} else {
				this.#logger.warn('cluster node record refused', { nodeId: ids[i]!.slice(0, 64) });
			}
		}
		return records.sort((a, b) => a.id.localeCompare(b.id));
	}

	#key(name: string): string {
		return `${this.#keyPrefix}${name}`;
	}

	#recordKey(id: string): string {
		return this.#key(`node:${id}`);
	}
}

/**
 * A run of a node, `ID@STARTED`: how presence, calls and the room directory
 * name the node a device, a call or a room is on, so that a node restarted
 * under the same id is not taken for its earlier run.
 */
export function nodeRun(node: { id: string; startedAt: number }): string {
	return `${node.id}@${node.startedAt}`;
}

/** The node id and start time of a run (nodeRun); undefined for text that is not one. */
export function parseRun(run: string): { id: string; startedAt: number } | undefined {
	const at = run.lastIndexOf('@');
	const startedAt = Number(run.slice(at + 1));
	return at > 0 && Number.isInteger(startedAt) ? { id: run.slice(0, at), startedAt } : undefined;
}

/** A record another node published, or undefined when it is not one this node can read (garbage, a newer version). */
function parseRecord(text: string): NodeRecord | undefined {
	try {
		const parsed = nodeRecordSchema.safeParse(JSON.parse(text));
		return parsed.success ? parsed.data : undefined;
	} catch {
		return undefined;
	}
}
