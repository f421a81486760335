import type { Redis } from 'ioredis';
import { clusterUnavailable } from '../cluster';
import type { Clock } from '../util';

/**
 * Who the server API removed from which room (docs/server-api.md): a
 * removed identity may not join that room again with a token issued before
 * its removal; a newer token may. A record lasts `ttlMs` (the longest a
 * token the node issues lives), then it is gone. A node alone keeps them in
 * memory; a fleet in Redis (`PREFIX removed:ROOM:IDENTITY`), so every node
 * refuses the same tokens.
 */
export class Removals {
	readonly #local = new Map<string, number>();
	readonly #redis: { client: Redis; keyPrefix: string } | undefined;
	readonly #ttlMs: number;
	readonly #clock: Clock;

	constructor(deps: { ttlMs: number; clock: Clock; redis?: { client: Redis; keyPrefix: string } }) {
		this.#ttlMs = deps.ttlMs;
		this.#clock = deps.clock;
		this.#redis = deps.redis;
	}

	/** Records that `identity` was removed from `roomId` now. @throws service_unavailable on a fleet whose Redis is away */
	async add(roomId: string, identity: string): Promise<void> {
		const at = this.#clock.now();
		if (this.#redis) {
			await this.#redis.client.set(this.#key(roomId, identity), String(at), 'PX', this.#ttlMs).catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			return;
		}
		this.#sweep();
		this.#local.set(`${roomId}\0${identity}`, at);
	}

	/**
	 * Whether a token of `identity` issued at `issuedAtSeconds` (its `iat`; none: as old as can be) is
	 * one the server API removed from `roomId`: issued in or before the second of the removal.
	 * @throws service_unavailable on a fleet whose Redis is away (a join is refused rather than let through)
	 */
	async refused(roomId: string, identity: string, issuedAtSeconds: number | undefined): Promise<boolean> {
		let at: number | undefined;
		if (this.#redis) {
			const stored = await this.#redis.client.get(this.#key(roomId, identity)).catch((error: unknown) => {
				throw clusterUnavailable(error);
			});
			at = stored === null ? undefined : Number(stored);
		} else {
			this.#sweep();
			at = this.#local.get(`${roomId}\0${identity}`);
		}
		return at !== undefined && (issuedAtSeconds ?? 0) <= Math.floor(at / 1000);
	}

	#sweep(): void {
		const oldest = this.#clock.now() - this.#ttlMs;
		for (const [key, at] of this.#local) {
			if (at <= oldest) {
				this.#local.delete(key);
			}
		}
	}

	#key(roomId: string, identity: string): string {
		return `${this.#redis!.keyPrefix}removed:${roomId}:${identity}`;
	}
}
