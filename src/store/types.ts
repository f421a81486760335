/** An account's settings, exactly as GET / PATCH /api/me/settings expose them. */
export type UserSettings = {
	/** Listed in the directory search. */
	discoverable: boolean;
	calls: {
		/** Off: nobody may ring, whatever allowFrom says. */
		enabled: boolean;
		/** Who may ring when calls are on; any one matching entry is enough. */
		allowFrom: {
			/** People in my address book. */
			contacts: boolean;
			/** People I follow. */
			following: boolean;
			/** Verified accounts. */
			verified: boolean;
			/** Any account that is not blocked either way. */
			everyone: boolean;
		};
		/**
		 * Others (whom allowFrom does not let ring) are silenced rather than
		 * refused: their invite does not ring, but lands in the history as
		 * `silenced` (and `call.silenced`), to call back. Blocked accounts never do.
		 */
		silenceOthers: boolean;
	};
};

/** Discoverable; calls on; contacts and people I follow may ring me. Frozen all the way down. */
export const DEFAULT_SETTINGS: Readonly<UserSettings> = Object.freeze({
	discoverable: true,
	calls: Object.freeze({
		enabled: true,
		allowFrom: Object.freeze({ contacts: true, following: true, verified: false, everyone: false }),
		silenceOthers: false,
	}),
});

/** Stored settings with what they lack (a setting newer than the row) taken from the defaults. */
export function withDefaultSettings(stored: Partial<UserSettings> & { calls?: Partial<UserSettings['calls']> }): UserSettings {
	return {
		...DEFAULT_SETTINGS,
		...stored,
		calls: { ...DEFAULT_SETTINGS.calls, ...stored.calls, allowFrom: { ...DEFAULT_SETTINGS.calls.allowFrom, ...stored.calls?.allowFrom } },
	};
}

/** An account as the rest of the node sees it (never its password hash). */
export type User = {
	id: string;
	/** Lowercase, 3-30 of a-z, 0-9 and _. */
	handle: string;
	displayName: string;
	verified: boolean;
	premium: boolean;
	settings: UserSettings;
	createdAt: number;
};

/** What anyone may see of an account: the directory entry. */
export type PublicUser = Pick<User, 'handle' | 'displayName' | 'verified'>;

export type RelationKind = 'contact' | 'follow' | 'block';

/** How two accounts stand, as canRing needs it (the callee's side, and blocks both ways). */
export type RelationsBetween = {
	calleeHasCallerAsContact: boolean;
	calleeFollowsCaller: boolean;
	calleeBlockedCaller: boolean;
	callerBlockedCallee: boolean;
};

/**
 * How a call went for its caller, with one callee: `answered`, `declined`,
 * `no_answer` (the ring timed out), `cancelled` (the caller gave up), or
 * `unavailable` (the invite rang nobody).
 */
export const CALLER_OUTCOMES = ['answered', 'declined', 'no_answer', 'cancelled', 'unavailable'] as const;
export type CallerOutcome = (typeof CALLER_OUTCOMES)[number];
/**
 * How a call went for a callee: `missed` covers a timeout and the caller
 * giving up; `silenced`, an invite its settings silenced (it did not ring).
 */
export type CalleeOutcome = 'answered' | 'declined' | 'missed' | 'silenced';
/** The outcome of a history row: the caller's on an outgoing row, the callee's on an incoming one. */
export type CallOutcome = CallerOutcome | CalleeOutcome;

/** What a call carries: audio alone, or audio and video. */
export type CallMedia = 'audio' | 'video';

/** One row of an account's call history: one call with one other party. */
export type CallRecord = {
	callId: string;
	userId: string;
	otherHandle: string;
	otherDisplayName: string;
	direction: 'outgoing' | 'incoming';
	media: CallMedia;
	/** A CallerOutcome on an outgoing row, a CalleeOutcome on an incoming one. */
	outcome: CallOutcome;
	startedAt: number;
	/** Time from answer to hang-up; 0 when not answered. */
	durationMs: number;
	/** Where this row stands in the history, for paging (start time, then insertion order). */
	cursor?: HistoryCursor;
};

/** A position in a call history: calls started in the same millisecond are told apart by `seq`. */
export type HistoryCursor = { startedAt: number; seq: number };

export type Session = { id: string; userId: string; expiresAt: number; revoked: boolean };

/** A device's end-to-end encryption identity (docs/e2ee.md): its public key, as the device published it. */
export type DeviceKey = { deviceId: string; sessionId: string; publicKey: string; createdAt: number };

/** An account reported as spam, as reportedAccounts lists it: how many accounts reported it, and when last. */
export type ReportedAccount = { handle: string; reports: number; lastReportAt: number };

/**
 * A link to a group call an account made (`/l/<id>`): who may join without knocking (`anyone`, or only
 * the `owner`), its title, and when it was made and last used (ms since epoch). NOTE: the end-to-end
 * secret of the link's call is made in the owner's browser and lives only in the link's fragment; the
 * store never holds it.
 */
export type CallLink = { id: string; ownerId: string; admit: 'anyone' | 'owner'; title: string; createdAt: number; lastUsedAt: number };

/** A webhook event waiting in a node's queue for one URL (src/webhooks): `seq` orders the queue. */
export type QueuedWebhook = { seq: number; url: string; eventId: string; body: string; createdAt: number };

/** How a store is doing, as metrics read it when scraped. */
export type StoreHealth = {
	kind: 'sqlite' | 'postgres';
	/** False from an operation that found the database unable to answer until one succeeds again. */
	available: boolean;
	/** PostgreSQL's pool: connections open, idle among them, and requests waiting for one. */
	connections?: { total: number; idle: number; waiting: number };
};

/**
 * Accounts, relations and login sessions. Every method resolves only after
 * its write has committed. Async so that a networked database can follow the
 * embedded SQLite one behind the same interface.
 */
export interface Store {
	createUser(user: { handle: string; displayName: string; passwordHash: string }): Promise<User>;
	userById(id: string): Promise<User | undefined>;
	userByHandle(handle: string): Promise<User | undefined>;
	passwordHash(userId: string): Promise<string | undefined>;
	setPasswordHash(userId: string, passwordHash: string): Promise<void>;
	updateUser(userId: string, changes: { displayName?: string; verified?: boolean; premium?: boolean; settings?: UserSettings }): Promise<User>;
	/** Deletes the account and everything that refers to it (relations both ways, sessions, device keys, reports by it and about it, call links). */
	deleteUser(userId: string): Promise<void>;
	/**
	 * Directory search: handles and display names starting with `prefix`
	 * (case-insensitive), ordered by handle, after `after` (a handle). Leaves out
	 * accounts that are not discoverable; the same for every searcher (blocks
	 * play no part).
	 */
	searchUsers(options: { prefix: string; after?: string; limit: number }): Promise<PublicUser[]>;

	/**
	 * Adds (`on`, idempotent) or removes the relation of `ownerId` towards the
	 * account whose handle is `targetHandle`, if there is one; for an unknown
	 * handle nothing is stored (an account signing up with it later gets no
	 * relation). The same work either way: one transaction with the same
	 * statements and one committed write (the owner's count of relation writes).
	 * @returns the target's id, undefined for an unknown handle
	 */
	setRelation(kind: RelationKind, ownerId: string, targetHandle: string, on: boolean): Promise<string | undefined>;
	/**
	 * The owner's targets of one kind, by handle: those that are discoverable,
	 * or that have the owner as a contact or follow it. Relations to other
	 * hidden accounts apply but are not listed.
	 */
	listRelations(kind: RelationKind, ownerId: string): Promise<PublicUser[]>;
	relationsBetween(callerId: string, calleeId: string): Promise<RelationsBetween>;

	createSession(session: { id: string; userId: string; refreshHash: string; expiresAt: number }): Promise<void>;
	session(id: string): Promise<Session | undefined>;
	/** The session a refresh token hash belongs to, if live. */
	sessionByRefreshHash(refreshHash: string): Promise<Session | undefined>;
	/**
	 * The session one of whose rotations replaced a refresh token with this
	 * hash: when, and whether it was the latest rotation.
	 */
	sessionByRetiredRefreshHash(refreshHash: string): Promise<(Session & { retiredAt: number; latest: boolean }) | undefined>;
	/**
	 * Replaces a session's refresh token hash (rotation on refresh), if it is
	 * still `fromHash`: false when another rotation came first. The replaced
	 * hash is kept as retired for one refresh lifetime (`expiresAt` - now).
	 */
	rotateSession(id: string, fromHash: string, toHash: string, expiresAt: number): Promise<boolean>;
	/** Revokes a session and deletes the device keys it published, in one transaction. */
	revokeSession(id: string): Promise<void>;
	/** Revokes every session of a user but `exceptId`, and deletes the device keys of those it revokes. */
	revokeSessions(userId: string, exceptId?: string): Promise<void>;

	/**
	 * Publishes the public key of the device `deviceId` of `userId`, bound to the login session `sessionId`
	 * (upsert on (userId, deviceId): the key, session and createdAt replace the old ones). A session has at most
	 * one device: the session's earlier row for another device id is deleted in the same transaction.
	 * NOTE: only a live session of `userId` publishes: for one that is revoked, unknown or another account's
	 * this throws `unauthorized` and stores nothing. The check holds the session's row in the transaction, so
	 * a revoke racing with a publish either waits and then deletes the key, or comes first and the publish is
	 * refused: a signed-out device's key never stays behind.
	 * @throws unauthorized when `sessionId` is not a live session of `userId`
	 */
	putDeviceKey(key: { userId: string; deviceId: string; sessionId: string; publicKey: string }): Promise<void>;
	/** The published key of one device of the account, if any. */
	deviceKey(userId: string, deviceId: string): Promise<DeviceKey | undefined>;
	/** The account's published device keys, oldest first. */
	deviceKeys(userId: string): Promise<DeviceKey[]>;

	/**
	 * Records that `reporterId` reported `reportedId` as spam at `at` (ms since epoch). One row per
	 * (reporter, reported account): a repeat report moves `at` and still counts once. Deleting either
	 * account deletes the report.
	 * @throws not_found when either account is gone
	 */
	addReport(report: { reporterId: string; reportedId: string; at: number }): Promise<void>;
	/** How many accounts reported `reportedId` with their latest report at or after `since`. */
	reportsAgainst(reportedId: string, since: number): Promise<number>;
	/**
	 * The accounts with at least one report at or after `since`: most reports first, then the newest
	 * latest report, then by handle; at most `limit`.
	 */
	reportedAccounts(since: number, limit: number): Promise<ReportedAccount[]>;
	/**
	 * Whether the call history of `userId` has an incoming call from `handle` (folded) that started at or
	 * after `since`: a report counts only from an account the reported one rang.
	 */
	rangSince(userId: string, handle: string, since: number): Promise<boolean>;

	/**
	 * Stores a new call link of `ownerId`, made and last used at `at` (ms since epoch). Deleting the
	 * account deletes its links.
	 * @throws not_found when the owner is gone; conflict when the id is taken
	 */
	createLink(link: { id: string; ownerId: string; admit: 'anyone' | 'owner'; title: string; at: number }): Promise<CallLink>;
	/** The link with this id, whoever owns it, expired or not. */
	link(id: string): Promise<CallLink | undefined>;
	/** The account's links, newest first (then by id, byte by byte). */
	links(ownerId: string): Promise<CallLink[]>;
	/** Sets the link's last use to `at`; nothing for an unknown id. */
	touchLink(id: string, at: number): Promise<void>;
	/**
	 * Deletes the link `id` if `ownerId` owns it.
	 * @returns whether a link was deleted
	 */
	deleteLink(ownerId: string, id: string): Promise<boolean>;

	addCallRecord(record: CallRecord): Promise<void>;
	/** Newest first, after the cursor `before` (a row's `cursor` from an earlier page). */
	callHistory(userId: string, options: { before?: HistoryCursor; limit: number }): Promise<CallRecord[]>;

	/**
	 * Queues the event `body` for each of `urls` from the node `nodeId`, in one transaction, except
	 * for a URL whose queue on that node holds `max` events already.
	 * @returns the URLs it was not queued for (their queue was full)
	 */
	queueWebhook(nodeId: string, urls: readonly string[], event: { eventId: string; body: string; createdAt: number }, max: number): Promise<string[]>;
	/** The oldest events queued by `nodeId` for `url`, at most `limit`, oldest first. */
	queuedWebhooks(nodeId: string, url: string, limit: number): Promise<QueuedWebhook[]>;
	/** Takes a delivered event out of its queue; nothing for one already gone. */
	webhookDelivered(seq: number): Promise<void>;

	/** Cheap and synchronous: no query. */
	health(): StoreHealth;

	close(): Promise<void>;
}
