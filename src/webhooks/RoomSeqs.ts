import type { Redis } from 'ioredis';
import { clusterUnavailable } from '../cluster';
import type { Clock } from '../util';

/** A room's counter lives a day past its last event. */
const SEQ_TTL_MS = 86_400_000;

/**
 * The per-room `seq` of webhook events, and whether a room's opening or
 * closing on this node is the room's start or finish. Alone, a node counts
 * in memory and every room it opens is a start. In a fleet a room may span
 * nodes: the counter is `PREFIX webhooks:seq:ROOM` (INCR) and the nodes that
 * have the room open are the set `PREFIX webhooks:room:ROOM`, so that the
 * first node to open a room starts it and the last to close it finishes it.
 */
export interface RoomSeqs {
	next(roomId: string): Promise<number>;
	/** This node opened the room: whether no other node has it open (room_started). */
	opened(roomId: string): Promise<boolean>;
	/** This node closed the room: whether no other node has it open now (room_finished). */
	closed(roomId: string): Promise<boolean>;
}

/** A node alone: counters in memory, each dropped a day after its last use (looked at as rooms count). */
export class LocalRoomSeqs implements RoomSeqs {
	readonly #counters = new Map<string, { seq: number; at: number }>();
	readonly #clock: Clock;

	constructor(clock: Clock) {
		this.#clock = clock;
	}

	async next(roomId: string): Promise<number> {
		const now = this.#clock.now();
		const counter = this.#counters.get(roomId);
		if (!counter) {
			this.#sweep(now);
		}
		const seq = (counter?.seq ?? 0) + 1;
		this.#counters.set(roomId, { seq, at: now });
		return seq;
	}

	async opened(): Promise<boolean> {
		return true;
	}

	async closed(): Promise<boolean> {
		return true;
	}

	#sweep(now: number): void {
		for (const [roomId, { at }] of this.#counters) {
			if (now - at > SEQ_TTL_MS) {
				this.#counters.delete(roomId);
			}
		}
	}
}

// KEYS[1] the room's set of nodes; ARGV[1] this node: 1 when it was the first.
const OPENED = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('SCARD', KEYS[1]) == 1 and 1 or 0`;
// 1 when this node was the last (the set goes).
const CLOSED = `
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

export class RedisRoomSeqs implements RoomSeqs {
	readonly #redis: Redis;
	readonly #keyPrefix: string;
	readonly #nodeId: string;

	constructor(deps: { redis: Redis; keyPrefix: string; nodeId: string }) {
		this.#redis = deps.redis;
		this.#keyPrefix = deps.keyPrefix;
		this.#nodeId = deps.nodeId;
	}

	async next(roomId: string): Promise<number> {
		const key = `${this.#keyPrefix}webhooks:seq:${roomId}`;
		const replies = await this.#redis.multi().incr(key).pexpire(key, SEQ_TTL_MS).exec().catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		const [error, seq] = replies?.[0] ?? [new Error('no reply')];
		if (error) {
			throw clusterUnavailable(error);
		}
		return Number(seq);
	}

	async opened(roomId: string): Promise<boolean> {
		return await this.#eval(OPENED, roomId, SEQ_TTL_MS) === 1;
	}

	async closed(roomId: string): Promise<boolean> {
		return await this.#eval(CLOSED, roomId) === 1;
	}

	async #eval(script: string, roomId: string, ...args: number[]): Promise<unknown> {
		return this.#redis.eval(script, 1, `${this.#keyPrefix}webhooks:room:${roomId}`, this.#nodeId, ...args).catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
	}
}
