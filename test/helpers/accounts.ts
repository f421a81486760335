import { randomBytes, webcrypto } from 'node:crypto';
import type { TestNode } from './node';
import { SignalingClient } from './signalingClient';

export type TestAccount = { handle: string; token: string; refreshToken: string; id: string };

/** Signs an account up over HTTP. */
export async function signup(node: TestNode, handle: string, displayName = handle): Promise<TestAccount> {
	const res = await fetch(`${node.url}/api/auth/signup`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ handle, password: `pw-${handle}-secret`, displayName }),
	});
	if (res.status !== 201) {
		throw new Error(`signup ${handle}: ${res.status} ${await res.text()}`);
	}
	const body = await res.json() as { token: string; refreshToken: string };
	const claims = await node.tokens.verify(body.token);
	return { handle, token: body.token, refreshToken: body.refreshToken, id: claims.sub };
}

/** Signs an account up that anybody may call (its settings allow everyone). */
export async function callable(node: TestNode, handle: string, displayName = handle): Promise<TestAccount> {
	const created = await signup(node, handle, displayName);
	const res = await api(node, created.token, 'PATCH', '/api/me/settings', { calls: { allowFrom: { everyone: true } } });
	if (res.status !== 200) {
		throw new Error(`settings of ${handle}: ${res.status} ${JSON.stringify(res.body)}`);
	}
	return created;
}

/** The access token of a new login session of `account` (another device), with signup's password. */
export async function login(node: TestNode, account: Pick<TestAccount, 'handle'>): Promise<string> {
	const res = await api(node, undefined, 'POST', '/api/auth/login', { handle: account.handle, password: `pw-${account.handle}-secret` });
	if (res.status !== 200) {
		throw new Error(`login ${account.handle}: ${res.status} ${JSON.stringify(res.body)}`);
	}
	return res.body.token as string;
}

/** An authenticated JSON request; resolves with status and parsed body. */
export async function api(node: TestNode, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
	const res = await fetch(`${node.url}${path}`, {
		method,
		headers: {
			...(token ? { Authorization: `Bearer ${token}` } : {}),
			...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
		},
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A signaling session that published an end-to-end encryption key: call.invite and call.accept name `deviceId`. */
export type TestDevice = SignalingClient & { deviceId: string };

/** A new device: its id and the raw P-256 public key it publishes, base64url (the private key is thrown away). */
export async function newDeviceKey(): Promise<{ deviceId: string; publicKey: string }> {
	const pair = await webcrypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
	const publicKey = Buffer.from(await webcrypto.subtle.exportKey('raw', pair.publicKey)).toString('base64url');
	return { deviceId: randomBytes(16).toString('base64url'), publicKey };
}

const published = new Map<string, Promise<string>>();

/**
 * Publishes a fresh P-256 public key for the login session of `token`
 * (PUT /api/me/devices), once per token; resolves with the device id. As a
 * browser does, but the private key is thrown away: these tests relay no keys.
 */
export function publishDevice(node: TestNode, token: string): Promise<string> {
	const key = `${node.url} ${token}`;
	let deviceId = published.get(key);
	if (!deviceId) {
		deviceId = (async () => {
			const { deviceId: id, publicKey } = await newDeviceKey();
			const res = await api(node, token, 'PUT', `/api/me/devices/${id}`, { publicKey });
			if (res.status !== 204) {
				throw new Error(`publish device: ${res.status} ${JSON.stringify(res.body)}`);
			}
			return id;
		})();
		published.set(key, deviceId);
	}
	return deviceId;
}

/** A connected device of an account (a signaling session with its account token). */
export async function device(node: TestNode, account: Pick<TestAccount, 'token'>, clients: SignalingClient[]): Promise<SignalingClient> {
	const client = await SignalingClient.connect(node.url, { token: account.token });
	clients.push(client);
	return client;
}

/** A device that published its key, as a browser does before it places or answers a call. */
export async function callDevice(node: TestNode, account: Pick<TestAccount, 'token'>, clients: SignalingClient[]): Promise<TestDevice> {
	const deviceId = await publishDevice(node, account.token);
	return Object.assign(await device(node, account, clients), { deviceId });
}
