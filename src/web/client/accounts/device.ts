import { e2eeProblem } from '../e2ee/FrameCrypto';
import { deviceIdentity, type DeviceIdentity } from '../e2ee/identity';
import type { Account } from './auth';

/**
 * Why this browser cannot take part in a call between accounts, which is
 * end-to-end encrypted, or undefined when it can.
 */
export function callProblem(): string | undefined {
	if (typeof indexedDB === 'undefined') {
		return 'This browser keeps no storage for the key that encrypts calls (a private window?): calls need it';
	}
	return e2eeProblem();
}

/**
 * This browser's device for the calls of `account`: made on first use
 * (identity.ts) and published under this login session, which a sign-out
 * deletes; published again on each page load (the same id and key).
 * @throws Error with what the person is told
 */
export async function publishedDevice(account: Account): Promise<DeviceIdentity> {
	const problem = callProblem();
	if (problem) {
		throw new Error(problem);
	}
	const device = await deviceIdentity(account.me.handle);
	await account.api('PUT', `/api/me/devices/${device.deviceId}`, { publicKey: device.publicKey });
	return device;
}
