import type { Redis } from 'ioredis';
import { nodeRun, parseRun, type Bus, type NodeRegistry } from '../cluster';
import type { Logger } from '../logging';
import type { FleetRooms } from './FleetRooms';
import type { NodePipes } from './NodePipes';
import { pipeDone } from './pipeMessages';
import type { Room } from './Room';
import type { RoomRegistry } from './RoomRegistry';
import { roomPartMessage, roomPartSchema, type RoomPart } from './roomPart';
import { RoomSpan } from './RoomSpan';

/** How long the parts of a room live in Redis without any of its nodes refreshing them. */
const PARTS_TTL_MS = 30_000;
/** How long a room's first sync may hold up the join that created it (Redis slow or away). */
const FIRST_SYNC_MS = 1500;

/** Every this many heals, the pipes from other nodes are checked at their other ends (NodePipes.check). */
const PIPE_CHECK_HEALS = 5;
/** Heals in a row a part must be missing (or its node not live) for before its peers are dropped. */
const ABSENT_HEALS = 3;

/** `absent`: the heals in a row each part of another node was missing (or its node not live), by run. */
type Entry = { span: RoomSpan; seq: number; publishing: boolean; closed: boolean; absent: Map<string, number> };

/**
 * The rooms of this node that span nodes, and how their parts travel. Every
 * room opened here gets a RoomSpan. Its part (RoomSpan.part) is kept in
 * Redis, `PREFIX room:ID:parts` (a field per node run), and sent to every
 * other node listed there whenever it changes (`room.part`, a request over
 * the bus). Because a node writes its part before it reads the others' and
 * a new node reads them after writing its own, one of two nodes that change
 * at once always hears of the other.
 *
 * Lost messages heal: at every heartbeat each node writes its part again,
 * reads the others' (applying those newer than it knew) and drops a part
 * whose node the registry says is gone, or that is no longer there. A node
 * the registry reports gone is dropped from every room at once. At every
 * heartbeat it also claims the room's home for itself if the room has none
 * (FleetRooms.claimHome): the home runs the room's speaker watcher. The
 * peers here are offered again the other nodes' producers they have no
 * consumer of (a pipe that failed or was lost), and every fifth heartbeat
 * the pipes from other nodes are checked at their other ends.
 */
export class FleetSpans {
	readonly #redis: Redis;
	readonly #bus: Bus;
	readonly #registry: NodeRegistry;
	readonly #pipes: NodePipes;
	readonly #rooms: RoomRegistry;
	readonly #directory: FleetRooms;
	readonly #keyPrefix: string;
	readonly #heartbeatMs: number;
	readonly #logger: Logger;
	readonly #entries = new Map<string, Entry>();
	#heals = 0;
	#timer: NodeJS.Timeout | undefined;

	constructor(deps: {
		redis: Redis; bus: Bus; registry: NodeRegistry; pipes: NodePipes; rooms: RoomRegistry; directory: FleetRooms;
		keyPrefix: string; heartbeatMs: number; logger: Logger;
	}) {
		this.#redis = deps.redis;
		this.#bus = deps.bus;
		this.#registry = deps.registry;
		this.#pipes = deps.pipes;
		this.#rooms = deps.rooms;
		this.#directory = deps.directory;
		this.#keyPrefix = deps.keyPrefix;
		this.#heartbeatMs = deps.heartbeatMs;
		this.#logger = deps.logger.child({ module: 'rooms', nodeId: deps.registry.nodeId });
	}

	start(): void {
		this.#bus.handle('room.part', roomPartMessage, async ({ roomId, part }, from) => {
			const entry = this.#entries.get(roomId);
			// NOTE: a node speaks for its own part only.
			if (entry && part.node === from) {
				entry.span.apply(part);
			}
			return {};
		});
		// NOTE: confirmed first: a node that missed two heartbeats and is back keeps its peers and pipes.
		this.#registry.observer.on('nodeGone', (nodeId, startedAt) => {
			void this.#registry.stillGone(nodeId, startedAt).then((gone) => gone && this.#gone(nodeRun({ id: nodeId, startedAt })));
		});
		this.#rooms.observer.on('roomClosed', (room) => this.#closed(room));
		this.#timer = setInterval(() => void this.#healAll(), this.#heartbeatMs);
		this.#timer.unref();
		this.#redis.on('ready', this.#onReady);
	}

	readonly #onReady = (): void => void this.#healAll();

	/**
	 * Spans a room just opened here: it learns the parts of the other nodes
	 * (bounded: without Redis it starts alone and heals later) and whether
	 * this node is its home.
	 */
	async attach(room: Room): Promise<void> {
		const entry: Entry = { span: new RoomSpan(room, this.#pipes), seq: 0, publishing: false, closed: false, absent: new Map() };
		this.#entries.set(room.id, entry);
		room.events.on('changed', () => this.#publish(room.id, entry));
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([this.#heal(room.id, entry), new Promise((resolve) => {
			timer = setTimeout(resolve, FIRST_SYNC_MS);
		})]);
		clearTimeout(timer);
	}

	/** How many peers of the room each node hosts, by node id, as their parts say (for placement). @throws what Redis throws */
	async members(roomId: string): Promise<Map<string, number>> {
		const members = new Map<string, number>();
		const own = this.#rooms.get(roomId);
		if (own) {
			members.set(this.#registry.nodeId, own.peers.size);
		}
		for (const part of (await this.#read(roomId)).values()) {
			if (part.node !== this.#registry.nodeId && this.#registry.nodes.some((n) => n.id === part.node)) {
				members.set(part.node, part.peers.length);
			}
		}
		return members;
	}

	close(): void {
		clearInterval(this.#timer);
		this.#redis.off('ready', this.#onReady);
	}

	/** Sends the room's new part (at most one send at a time; changes meanwhile make one more). */
	#publish(roomId: string, entry: Entry): void {
		if (entry.publishing || entry.closed) {
			return;
		}
		entry.publishing = true;
		setImmediate(() => {
			entry.publishing = false;
			if (!entry.closed) {
				void this.#send(roomId, this.#ownPart(entry, ++entry.seq));
			}
		});
	}

	#ownPart(entry: Entry, seq: number): RoomPart {
		return entry.span.part(this.#registry.nodeId, this.#registry.run, seq);
	}

	/**
	 * Writes `part` to Redis (or, for the last part of a room closed here,
	 * removes it) and sends it to the room's other nodes: those Redis lists
	 * and those the span knew.
	 */
	async #send(roomId: string, part: RoomPart, { last = false, known = this.#entries.get(roomId)?.span.runs() ?? [] } = {}): Promise<void> {
		const key = this.#key(roomId);
		try {
			const multi = this.#redis.multi();
			if (last) {
				multi.hdel(key, part.run);
			} else {
				multi.hset(key, part.run, JSON.stringify(part)).pexpire(key, PARTS_TTL_MS);
			}
			const results = await multi.hkeys(key).exec();
			const runs = (results?.at(-1)?.[1] ?? []) as string[];
			const others = new Set([...runs, ...known]);
			for (const run of others) {
				const node = parseRun(run)?.id;
				if (node && node !== this.#registry.nodeId) {
					this.#bus.request(node, 'room.part', { roomId, part }, pipeDone)
						.catch((error: unknown) => this.#logger.debug('room part not delivered', { roomId, node, error: (error as Error).message }));
				}
			}
		} catch (error) {
			this.#logger.debug('room part not published', { roomId, error: (error as Error).message });
		}
	}

	async #healAll(): Promise<void> {
		for (const [roomId, entry] of this.#entries) {
			await this.#heal(roomId, entry);
		}
		if (++this.#heals % PIPE_CHECK_HEALS === 0) {
			await this.#pipes.check();
		}
	}

	/** Writes this node's part again, applies the others', drops the parts of nodes that are gone, claims the home if it has none. */
	async #heal(roomId: string, entry: Entry): Promise<void> {
		try {
			const { span } = entry;
			if (span.room.peers.size > 0) {
				const key = this.#key(roomId);
				await this.#redis.multi().hset(key, this.#registry.run, JSON.stringify(this.#ownPart(entry, entry.seq))).pexpire(key, PARTS_TTL_MS).exec();
			}
			const parts = await this.#read(roomId);
			for (const [run, part] of parts) {
				if (run === this.#registry.run) {
					continue;
				}
				const named = parseRun(run);
				if (named && await this.#registry.findLive(named.id, named.startedAt)) {
					entry.absent.delete(run);
					span.apply(part);
				} else if (this.#absentLong(entry, run)) {
					await this.#redis.hdel(this.#key(roomId), run);
					span.drop(run);
				}
			}
			for (const run of span.runs()) {
				if (!parts.has(run) && this.#absentLong(entry, run)) {
					span.drop(run);
				}
			}
			if (!entry.closed) {
				span.room.exchange.reofferRemote();
				span.room.setHome(await this.#directory.claimHome(roomId));
			}
		} catch (error) {
			this.#logger.debug('room span not healed', { roomId, error: (error as Error).message });
		}
	}

	/**
	 * Counts one more heal that found the part of `run` missing, or its node
	 * not live; true once that has lasted ABSENT_HEALS heals. NOTE: not at
	 * once: a live node on a loaded machine can miss heartbeats, and a Redis
	 * that restarted empty has every part back within a heartbeat.
	 */
	#absentLong(entry: Entry, run: string): boolean {
		const heals = (entry.absent.get(run) ?? 0) + 1;
		entry.absent.set(run, heals);
		if (heals < ABSENT_HEALS) {
			return false;
		}
		entry.absent.delete(run);
		return true;
	}

	/** The parts Redis has of the room, by run (parts that are not valid are skipped). */
	async #read(roomId: string): Promise<Map<string, RoomPart>> {
		const fields = await this.#redis.hgetall(this.#key(roomId));
		const parts = new Map<string, RoomPart>();
		for (const [run, text] of Object.entries(fields)) {
			try {
				const parsed = roomPartSchema.safeParse(JSON.parse(text));
				if (parsed.success && parsed.data.run === run) {
					parts.set(run, parsed.data);
					continue;
				}
			} catch {
				// Not JSON: refused below.
			}
			this.#logger.warn('room part refused', { roomId: roomId.slice(0, 64), bytes: text.length });
		}
		return parts;
	}

	/** A node is gone: its peers leave every room here. */
	#gone(run: string): void {
		for (const [roomId, entry] of this.#entries) {
			entry.span.drop(run);
			this.#redis.hdel(this.#key(roomId), run).catch(() => undefined);
		}
	}

	/** A room closed here (its last peer here left): its part goes, and the other nodes are told at once. */
	#closed(room: Room): void {
		const entry = this.#entries.get(room.id);
		if (!entry || entry.span.room !== room) {
			return;
		}
		entry.closed = true;
		this.#entries.delete(room.id);
		const part: RoomPart = { v: 1, node: this.#registry.nodeId, run: this.#registry.run, seq: entry.seq + 1, peers: [], needs: {} };
		void this.#send(room.id, part, { last: true, known: entry.span.runs() });
	}

	#key(roomId: string): string {
		return `${this.#keyPrefix}room:${roomId}:parts`;
	}
}
