import { SignJWT } from 'jose';
import { SwitchyardApiError } from './SwitchyardApiError';
import type { AccessToken, CreatedRoom, DataOptions, DataResult, MuteResult, MuteTrack, ParticipantUpdate, RoomList, RoomSettings, TokenGrants, UpdateResult } from './types';

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

	/** Creates `roomId` with `settings`, replacing those it had; every node opens it with them (`POST /api/v1/rooms`; the `rooms` scope). */
	createRoom(roomId: string, settings: RoomSettings = {}): Promise<CreatedRoom> {
		return this.#call('POST', '/api/v1/rooms', { roomId, ...settings }) as Promise<CreatedRoom>;
	}

	/** The rooms open now on every node, with their participants (`GET /api/v1/rooms`; the `read` scope). */
	listRooms(): Promise<RoomList> {
		return this.#call('GET', '/api/v1/rooms') as Promise<RoomList>;
	}

	/** Puts everyone out of `roomId`, on every node; they may join again (`DELETE /api/v1/rooms/:roomId`; the `rooms` scope). */
	async endRoom(roomId: string): Promise<void> {
		await this.#call('DELETE', roomPath(roomId));
	}

	/**
	 * Puts `identity` out of `roomId`, on every node; its tokens issued until
	 * now no longer join that room (`DELETE /api/v1/rooms/:roomId/participants/:identity`; the `rooms` scope).
	 */
	async removeParticipant(roomId: string, identity: string): Promise<void> {
		await this.#call('DELETE', participantPath(roomId, identity));
	}

	/**
	 * Mutes `identity`'s track `producerId`, or every track of its `kind`, in `roomId` on every node; with
	 * `muted: false` allows it to unmute them (`POST /api/v1/rooms/:roomId/participants/:identity/mute`; the `rooms` scope).
	 * @throws SwitchyardApiError not_found for no such participant or track, service_unavailable when a node did not answer
	 */
	muteTrack(roomId: string, identity: string, mute: MuteTrack): Promise<MuteResult> {
		return this.#call('POST', `${participantPath(roomId, identity)}/mute`, mute) as Promise<MuteResult>;
	}

	/**
	 * Sets `identity`'s metadata, permissions or both in `roomId` on every node
	 * (`PATCH /api/v1/rooms/:roomId/participants/:identity`; the `rooms` scope).
	 * @throws SwitchyardApiError not_found for no such participant, service_unavailable when a node did not answer
	 */
	updateParticipant(roomId: string, identity: string, update: ParticipantUpdate): Promise<UpdateResult> {
		return this.#call('PATCH', participantPath(roomId, identity), update) as Promise<UpdateResult>;
	}

	/**
	 * Sends `data` (at most 16 KiB of UTF-8) from the service to every participant of `roomId` connected
	 * now, on every node, or to those of `identities` (`POST /api/v1/rooms/:roomId/data`; the `rooms` scope).
	 * @throws SwitchyardApiError service_unavailable when a node did not answer (the others got it)
	 */
	sendData(roomId: string, data: string, { identities, topic }: DataOptions = {}): Promise<DataResult> {
		return this.#call('POST', `${roomPath(roomId)}/data`, { data, identities, topic }) as Promise<DataResult>;
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

/** The path of a room of the server API. */
function roomPath(roomId: string): string {
	return `/api/v1/rooms/${encodeURIComponent(roomId)}`;
}

/** The path of a participant of a room. */
function participantPath(roomId: string, identity: string): string {
	return `${roomPath(roomId)}/participants/${encodeURIComponent(identity)}`;
}
