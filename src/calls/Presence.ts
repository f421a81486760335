import type { CallNotificationName, CallNotifications } from './notifications';

/** One connected device of an account: a signaling session with an account token. */
export type Device = {
	/** Unique in the fleet (its socket.io id): a node that owns a call reaches the device by it wherever it is connected. */
	readonly id: string;
	/** Tells the device about one of its calls; signaling/ sends it as the matching wire event. */
	notify<N extends CallNotificationName>(name: N, data: CallNotifications[N]): void;
};

/**
 * Which devices each account has connected, and the way to tell them of
 * their calls. A node alone keeps them in memory (LocalPresence); a node of a
 * fleet knows every node's (cluster/FleetPresence.ts).
 */
export interface Presence {
	/** A device of `userId` connected to this node. */
	add(userId: string, device: Device): void;
	remove(userId: string, device: Device): void;
	/** Whether the account has a device connected anywhere. @throws service_unavailable when a fleet cannot tell */
	isOnline(userId: string): Promise<boolean>;
	/** Tells every device of the account but `except`, wherever each is connected. */
	notifyUser<N extends CallNotificationName>(userId: string, name: N, data: CallNotifications[N], except?: Device): void;
	/** The device `id`, wherever it is connected (one that has gone is told nothing). */
	device(id: string): Device;
}

/** Presence of a node alone: the devices connected to this process. */
export class LocalPresence implements Presence {
	readonly #devices = new Map<string, Set<Device>>();

	add(userId: string, device: Device): void {
		let devices = this.#devices.get(userId);
		if (!devices) {
			devices = new Set();
			this.#devices.set(userId, devices);
		}
		devices.add(device);
	}

	remove(userId: string, device: Device): void {
		const devices = this.#devices.get(userId);
		devices?.delete(device);
		if (devices?.size === 0) {
			this.#devices.delete(userId);
		}
	}

	devicesOf(userId: string): Device[] {
		return [...(this.#devices.get(userId) ?? [])];
	}

	/** Whether one of the account's devices is connected here. */
	hasLocal(userId: string): boolean {
		return (this.#devices.get(userId)?.size ?? 0) > 0;
	}

	async isOnline(userId: string): Promise<boolean> {
		return this.hasLocal(userId);
	}

	notifyUser<N extends CallNotificationName>(userId: string, name: N, data: CallNotifications[N], except?: Device): void {
		for (const device of this.devicesOf(userId)) {
			if (device.id !== except?.id) {
				device.notify(name, data);
			}
		}
	}

	device(id: string): Device {
		return this.find(id) ?? { id, notify: () => undefined };
	}

	/** The device `id` if it is connected here. */
	find(id: string): Device | undefined {
		for (const devices of this.#devices.values()) {
			for (const device of devices) {
				if (device.id === id) {
					return device;
				}
			}
		}
		return undefined;
	}

	/** Every account with a device here, and its devices. */
	entries(): IterableIterator<[string, Set<Device>]> {
		return this.#devices.entries();
	}
}
