/**
 * What the server API takes and answers (docs/server-api.md). NOTE: written
 * out by hand, apart from the server's own schemas (src/http/apiRoutes.ts,
 * src/rooms/RoomService.ts, src/rooms/RoomControls.ts), so a backend can copy this folder alone;
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

/** What a backend sets for a room it creates (`POST /api/v1/rooms`). */
export type RoomSettings = {
	/** The most participants at once across the fleet (never past the node's rooms.maxPeers). */
	maxParticipants?: number;
	/** How long the room stays open once empty (default 300). */
	emptyTimeoutSeconds?: number;
	/** Only end-to-end encrypted peers may join (default false). */
	e2ee?: boolean;
	/** At most 1 KiB, listed with the room. */
	metadata?: string;
};

/** A created room's settings as the node keeps them: the defaults filled in. */
export type StoredRoomSettings = RoomSettings & { emptyTimeoutSeconds: number; e2ee: boolean };
export type CreatedRoom = { roomId: string; settings: StoredRoomSettings };

export type RoomSummary = {
	roomId: string; e2ee: boolean; nodes: string[]; participants: ParticipantSummary[];
	/** There for a room the API created. */
	settings?: StoredRoomSettings;
};

/** `GET /api/v1/rooms`: the rooms open now; `unreachable` names the nodes that did not answer in time. */
export type RoomList = { rooms: RoomSummary[]; unreachable: string[] };

/**
 * The body of `POST /api/v1/rooms/:roomId/participants/:identity/mute`: one track by its `producerId`
 * (a TrackSummary's `id`), or every track of a `kind`. `muted: false` only allows the participant to
 * unmute itself; the node never resumes a track.
 */
export type MuteTrack =
	| { producerId: string; kind?: never; muted: boolean }
	| { kind: 'audio' | 'video'; producerId?: never; muted: boolean };

/** What a mute found: the participant's peers in the room, and the tracks muted or allowed (at least 1). */
export type MuteResult = { participants: number; tracks: number };

/** A participant's permissions; one left out stays as it is. */
export type ParticipantPermissions = { canPublish?: boolean; canSubscribe?: boolean };

/**
 * The body of `PATCH /api/v1/rooms/:roomId/participants/:identity`, at least one of the two: `metadata`,
 * at most 1 KiB of UTF-8 that every participant of the room is told; `permissions` to publish and subscribe.
 */
export type ParticipantUpdate =
	| { metadata: string; permissions?: ParticipantPermissions }
	| { metadata?: string; permissions: ParticipantPermissions };

/** What an update found: the participant's peers updated (at least 1). */
export type UpdateResult = { participants: number };

/** Who gets a data message: only the participants of `identities` (1-100 tokens' `sub`), else everyone; `topic` 1-128 characters. */
export type DataOptions = { identities?: string[]; topic?: string };

/** The connections a data message went to (0 for a room nobody is in). */
export type DataResult = { delivered: number };
