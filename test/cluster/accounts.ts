import { newDeviceKey, type TestDevice } from '../helpers/accounts';
import { SignalingClient } from '../helpers/signalingClient';
import type { FleetNode } from './fleet';

/** An account of a fleet's tests: its handle and the access token of its sign-up session. */
export type FleetAccount = { handle: string; token: string };

let counter = 0;

/** A new account `PREFIX_N`, signed up on `node`; `callers` may ring it (its contacts). */
export async function fleetAccount(node: FleetNode, prefix: string, callers: FleetAccount[] = []): Promise<FleetAccount> {
	const handle = `${prefix}_${++counter}`;
	const res = await node.api('POST', '/api/auth/signup', { body: { handle, password: `pw-${handle}-secret`, displayName: handle } });
	if (res.status !== 201) {
		throw new Error(`signup ${handle} on ${node.id}: ${res.status} ${JSON.stringify(res.body)}`);
	}
	for (const caller of callers) {
		const added = await node.api('PUT', `/api/me/contacts/${caller.handle}`, { token: res.body.token });
		if (added.status !== 204) {
			throw new Error(`${handle} adding contact ${caller.handle}: ${added.status}`);
		}
	}
	return { handle, token: res.body.token as string };
}

/**
 * A device of `account` connected to `node`, on a login session of its own
 * that published the device's key (its `deviceId`, for call.invite and
 * call.accept); kept in `clients` to disconnect.
 */
export async function fleetDevice(node: FleetNode, account: FleetAccount, clients: SignalingClient[]): Promise<TestDevice> {
	const login = await node.api('POST', '/api/auth/login', { body: { handle: account.handle, password: `pw-${account.handle}-secret` } });
	if (login.status !== 200) {
		throw new Error(`login ${account.handle} on ${node.id}: ${login.status} ${JSON.stringify(login.body)}`);
	}
	const token = login.body.token as string;
	const { deviceId, publicKey } = await newDeviceKey();
	const published = await node.api('PUT', `/api/me/devices/${deviceId}`, { token, body: { publicKey } });
	if (published.status !== 204) {
		throw new Error(`publish a device of ${account.handle} on ${node.id}: ${published.status} ${JSON.stringify(published.body)}`);
	}
	const client = await SignalingClient.connect(node.url, { token });
	clients.push(client);
	return Object.assign(client, { deviceId });
}
