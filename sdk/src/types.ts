/**
 * What the server API takes and answers (docs/server-api.md). NOTE: written
 * out by hand, apart from the server's own schemas (src/http/apiRoutes.ts,
 * src/rooms/RoomService.ts), so a backend can copy this folder alone;
 * test/integration/serverApi.test.ts holds the two together.
 */

/** The body of `POST /api/v1/tokens`: who the user is, what it is called, which rooms it may join. */
export type TokenGrants = {
	/** The user's stable id in the platform's product (the token's `sub`): 1-128 letters, digits, `_ . : @ -`. */
	identity: string;
	/** The display name the other participants see, up to 64 characters. */
	name?: string;
	/** 1-100 room ids, or `*` for any room but a call's or a call link's (`call-`, `link-`). */
	rooms: string[];
	/** 60 s up to the node's `auth.tokenTtlSeconds`, which is also the default. */
	ttlSeconds?: number;
};

/** An access token the user's client joins rooms with, and when it expires (ISO 8601). */
export type AccessToken = { token: string; expiresAt: string };

export type TrackSummary = { id: string; kind: 'audio' | 'video'; source: string; paused: boolean };

export type ParticipantSummary = {
	peerId: string;
	/** The token's `sub`: the identity a backend minted, an account id or a guest id. */
	identity: string;
	name: string;
	/** An account's handle; absent for the identities this API mints. */
	handle?: string;
	/** The node the participant is connected to. */
	node: string;
	tracks: TrackSummary[];
};

export type RoomSummary = { roomId: string; e2ee: boolean; nodes: string[]; participants: ParticipantSummary[] };

/** `GET /api/v1/rooms`: the rooms open now; `unreachable` names the nodes that did not answer in time. */
export type RoomList = { rooms: RoomSummary[]; unreachable: string[] };
