import type { Redis } from 'ioredis';
import { z } from 'zod';
import { clusterUnavailable } from '../cluster';
import type { Clock } from '../util';

/** What a backend set for a room it created (POST /api/v1/rooms; docs/server-api.md). */
export const roomSettingsSchema = z.strictObject({
	/** The most participants at once, across the fleet's nodes (at most rooms.maxPeers). */
	maxParticipants: z.number().int().min(1).max(1000).optional(),
	/** How long the room stays open once empty, and its settings unused (from creation, or the last join). */
	emptyTimeoutSeconds: z.number().int().min(0).max(86_400),
	/** Only end-to-end encrypted peers join (room.join `e2ee: true`). */
	e2ee: z.boolean(),
	/** Opaque to the node: listed with the room. */
	metadata: z.string().max(1024).optional(),
});
export type RoomSettings = z.infer<typeof roomSettingsSchema>;

/** Settings stay for their emptyTimeoutSeconds, and at least this long after being made or a join. */
const MIN_KEEP_MS = 6 * 3_600_000;

/**
 * The settings of the rooms the server API created: in memory on a node
 * alone, `PREFIX roomSettings:ROOM` in Redis on a fleet (every node opens
 * the room with them). They expire unused (see MIN_KEEP_MS); a join keeps
 * them (`touch`).
 */
export class RoomSettingsStore {
	readonly #local = new Map<string, { settings: RoomSettings; until: number }>();
	readonly #redis: { client: Redis; keyPrefix: string } | undefined;
	readonly #clock: Clock;

	constructor(deps: { clock: Clock; redis?: { client: Redis; keyPrefix: string } }) {
		this.#clock = deps.clock;
		this.#redis = deps.redis;
	}

	/** Sets the settings of `roomId`, replacing earlier ones. @throws service_unavailable on a fleet whose Redis is away */
	async set(roomId: string, settings: RoomSettings): Promise<void> {
		const keepMs = keep(settings);
		if (this.#redis) {
			await this.#redis.client.set(this.#key(roomId), JSON.stringify(settings), 'PX', keepMs).catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			return;
		}
		this.#sweep();
		this.#local.set(roomId, { settings, until: this.#clock.now() + keepMs });
	}

	/** The settings of `roomId`, if the API created it; a join's `touch` keeps them. @throws service_unavailable */
	async get(roomId: string, { touch = false } = {}): Promise<RoomSettings | undefined> {
		if (!this.#redis) {
			this.#sweep();
			const entry = this.#local.get(roomId);
			if (entry && touch) {
				entry.until = this.#clock.now() + keep(entry.settings);
			}
			return entry?.settings;
		}
		const key = this.#key(roomId);
		const stored = await this.#redis.client.get(key).catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		// NOTE: another node's write, read as untrusted: a bad entry is no settings.
		const parsed = stored === null ? undefined : roomSettingsSchema.safeParse(parseJson(stored)).data;
		if (parsed && touch) {
			await this.#redis.client.pexpire(key, keep(parsed)).catch(() => undefined);
		}
		return parsed;
	}

	#sweep(): void {
		const now = this.#clock.now();
		for (const [roomId, { until }] of this.#local) {
			if (until <= now) {
				this.#local.delete(roomId);
			}
		}
	}

	#key(roomId: string): string {
		return `${this.#redis!.keyPrefix}roomSettings:${roomId}`;
	}
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

function keep(settings: RoomSettings): number {
	return Math.max(settings.emptyTimeoutSeconds * 1000, MIN_KEEP_MS);
}
