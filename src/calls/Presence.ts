import type { CallNotificationName, CallNotifications } from './notifications';

/** One connected device of an account: a signaling session with an account token. */
export type Device = {
	readonly id: string;
	/** Tells the device about one of its calls; signaling/ sends it as the matching wire event. */
	notify<N extends CallNotificationName>(name: N, data: CallNotifications[N]): void;
};

/**
 * Which devices each account has connected now. In-process for this release
 * (one node); the interface is what a shared presence service will implement.
 */
export class Presence {
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

	isOnline(userId: string): boolean {
		return (this.#devices.get(userId)?.size ?? 0) > 0;
	}

	/** Tells every device of the account but `except`. */
	notifyUser<N extends CallNotificationName>(userId: string, name: N, data: CallNotifications[N], except?: Device): void {
		for (const device of this.devicesOf(userId)) {
			if (device !== except) {
				device.notify(name, data);
			}
		}
	}
}
