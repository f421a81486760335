import { SignJWT } from 'jose';
import { SwitchyardApiError } from './SwitchyardApiError';
import type { AccessToken, RoomList, TokenGrants } from './types';

/** How long each request's API token lives: the node takes at most 600 s, with 30 s of clock difference. */
const API_TOKEN_SECONDS = 60;

export type SwitchyardServerOptions = {
	/** The node's base URL, e.g. `https://media.example.org` (a path prefix is kept). */
	url: string;
	/** The key id of one of the node's `auth.apiKeys`. */
	apiKey: string;
	/** That key's secret. */
	apiSecret: string;
	/** Node's global fetch unless given (a proxy, a timeout, a test's fake). */
	fetch?: typeof fetch;
};

/**
 * A platform's backend calling Switchyard's server API (docs/server-api.md).
 * Each request carries a fresh API token (HS256 under `apiSecret`, `iss`
 * the key, living 60 s); each refusal throws a SwitchyardApiError.
 */
export class SwitchyardServer {
	readonly #url: string;
	readonly #apiKey: string;
	readonly #secret: Uint8Array;
	readonly #fetch: typeof fetch;

	constructor({ url, apiKey, apiSecret, fetch: fetchImpl = globalThis.fetch }: SwitchyardServerOptions) {
		this.#url = url.replace(/\/+$/, '');
		this.#apiKey = apiKey;
		this.#secret = new TextEncoder().encode(apiSecret);
		this.#fetch = fetchImpl;
	}

	/** An access token for one of the platform's users (`POST /api/v1/tokens`; the key needs the `tokens` scope). */
	createToken(grants: TokenGrants): Promise<AccessToken> {
		return this.#call('POST', '/api/v1/tokens', grants) as Promise<AccessToken>;
	}

	/** The rooms open now on every node, with their participants (`GET /api/v1/rooms`; the `read` scope). */
	listRooms(): Promise<RoomList> {
		return this.#call('GET', '/api/v1/rooms') as Promise<RoomList>;
	}

	/** Puts everyone out of `roomId`, on every node; they may join again (`DELETE /api/v1/rooms/:roomId`; the `rooms` scope). */
	async endRoom(roomId: string): Promise<void> {
		await this.#call('DELETE', `/api/v1/rooms/${encodeURIComponent(roomId)}`);
	}

	/**
	 * Puts `identity` out of `roomId`, on every node; its tokens issued until
	 * now no longer join that room (`DELETE /api/v1/rooms/:roomId/participants/:identity`; the `rooms` scope).
	 */
	async removeParticipant(roomId: string, identity: string): Promise<void> {
		await this.#call('DELETE', `/api/v1/rooms/${encodeURIComponent(roomId)}/participants/${encodeURIComponent(identity)}`);
	}

	/** The API token for one request. */
	#apiToken(): Promise<string> {
		const iat = Math.floor(Date.now() / 1000);
		return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(this.#apiKey)
			.setIssuedAt(iat).setExpirationTime(iat + API_TOKEN_SECONDS).sign(this.#secret);
	}

	/** The parsed body of a 2xx answer (undefined for none). @throws SwitchyardApiError for any other, or a body that is not JSON */
	async #call(method: string, path: string, body?: unknown): Promise<unknown> {
		const res = await this.#fetch(`${this.#url}${path}`, {
			method,
			headers: {
				Authorization: `Bearer ${await this.#apiToken()}`,
				...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
			},
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		const text = await res.text();
		if (!res.ok) {
			throw SwitchyardApiError.fromResponse(res.status, text);
		}
		try {
			return text ? JSON.parse(text) : undefined;
		} catch {
			throw SwitchyardApiError.unexpected(res.status, text);
		}
	}
}
