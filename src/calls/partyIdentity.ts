import { AppError } from '../errors';
import type { Store } from '../store';
import { loginSession, type Party, type PartyIdentity } from './fleet';

/**
 * The device `deviceId` of the bearer's login session as a party's identity
 * (docs/e2ee.md): the public key it published (PUT /api/me/devices), which
 * the other parties wrap their sender keys for. Without a device id, none:
 * such a party cannot join the call's room, which is end-to-end encrypted.
 * NOTE: only the session that published the key may take part with it.
 * @throws e2ee_unavailable when this login session published no key under that id
 */
export async function publishedIdentity(store: Store, claims: Party, deviceId: string | undefined): Promise<PartyIdentity | undefined> {
	const sid = loginSession(claims);
	if (deviceId === undefined) {
		return undefined;
	}
	const published = await store.deviceKey(claims.sub, deviceId);
	if (!published || published.sessionId !== sid) {
		throw new AppError('e2ee_unavailable', 'this device has not published its end-to-end encryption key: reload the page');
	}
	return { deviceId, key: published.publicKey };
}
