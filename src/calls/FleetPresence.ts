import type { Redis } from 'ioredis';
import { clusterUnavailable, parseRun, type NodeRegistry } from '../cluster';
import type { Logger } from '../logging';
import type { CallNotificationName, CallNotifications } from './notifications';
import { LocalPresence, type Device, type Presence } from './Presence';

/** How the node reaches devices anywhere in the fleet: socket.io with the fleet's adapter (signaling/). */
export type DeviceSender = {
	/** Every device of the account but the device `except`, on every node. */
	toUser<N extends CallNotificationName>(userId: string, except: string | undefined, name: N, data: CallNotifications[N]): void;
	/** The device `id`, on whichever node it is connected. */
	toDevice<N extends CallNotificationName>(id: string, name: N, data: CallNotifications[N]): void;
};

/** How long an account's presence outlives its last device's arrival: past it, entries a lost fleet left are gone. */
const PRESENCE_TTL_SECONDS = 24 * 3600;

/**
 * Presence across a fleet: each node keeps its own devices in memory and in
 * the hash `PREFIX presence:USER` (device id to the run of the node it is
 * connected to, `NODE@STARTED`), so that any node can tell whether an account
 * is online anywhere. A device whose node is not live (listed by the
 * registry, or its record in Redis) does not count: a killed node's devices
 * stop counting within two heartbeats, without anyone cleaning up after it.
 * Notifications go through socket.io (`attach`), which reaches every node.
 */
export class FleetPresence implements Presence {
	readonly #local = new LocalPresence();
	readonly #redis: Redis;
	readonly #registry: NodeRegistry;
	readonly #keyPrefix: string;
	readonly #logger: Logger;
	#sender: DeviceSender | undefined;

	constructor(deps: { redis: Redis; registry: NodeRegistry; keyPrefix: string; logger: Logger }) {
		this.#redis = deps.redis;
		this.#registry = deps.registry;
		this.#keyPrefix = deps.keyPrefix;
		this.#logger = deps.logger.child({ module: 'cluster' });
	}

	/** The way to reach devices on other nodes, once socket.io is up. */
	attach(sender: DeviceSender): void {
		this.#sender = sender;
	}

	add(userId: string, device: Device): void {
		this.#local.add(userId, device);
		this.#publish(userId, [device]);
	}

	remove(userId: string, device: Device): void {
		this.#local.remove(userId, device);
		this.#redis.hdel(this.#key(userId), device.id)
			.catch((error: unknown) => this.#logger.warn('presence not withdrawn', { error: (error as Error).message }));
	}

	async isOnline(userId: string): Promise<boolean> {
		if (this.#local.hasLocal(userId)) {
			return true;
		}
		const runs = await this.#redis.hvals(this.#key(userId)).catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		for (const run of new Set(runs)) {
			const named = parseRun(run);
			if (named && await this.#registry.findLive(named.id, named.startedAt)) {
				return true;
			}
		}
		return false;
	}

	notifyUser<N extends CallNotificationName>(userId: string, name: N, data: CallNotifications[N], except?: Device): void {
		if (this.#sender) {
			this.#sender.toUser(userId, except?.id, name, data);
		} else {
			this.#local.notifyUser(userId, name, data, except);
		}
	}

	device(id: string): Device {
		const local = this.#local.find(id);
		if (local) {
			return local;
		}
		return { id, notify: (name, data) => this.#sender?.toDevice(id, name, data) };
	}

	/** Publishes every device connected here again: Redis came back after a restart that forgot them. */
	republish(): void {
		for (const [userId, devices] of this.#local.entries()) {
			this.#publish(userId, [...devices]);
		}
	}

	#publish(userId: string, devices: Device[]): void {
		const key = this.#key(userId);
		this.#redis.multi()
			.hset(key, Object.fromEntries(devices.map((device) => [device.id, this.#registry.run])))
			.expire(key, PRESENCE_TTL_SECONDS)
			.exec()
			.catch((error: unknown) => this.#logger.warn('presence not published', { error: (error as Error).message }));
	}

	#key(userId: string): string {
		return `${this.#keyPrefix}presence:${userId}`;
	}
}
