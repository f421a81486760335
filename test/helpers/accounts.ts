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

/** A connected device of an account (a signaling session with its account token). */
export async function device(node: TestNode, account: TestAccount, clients: SignalingClient[]): Promise<SignalingClient> {
	const client = await SignalingClient.connect(node.url, { token: account.token });
	clients.push(client);
	return client;
}
