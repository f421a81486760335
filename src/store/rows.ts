import { AppError } from '../errors';
import { withoutUnsafe } from '../util';
import type { CallLink, CallOutcome, CallRecord, DeviceKey, PublicUser, RelationKind, RelationsBetween, ReportedAccount, Session, User, UserSettings } from './types';
import { withDefaultSettings } from './types';

/**
 * What both stores share: how a stored row becomes what the node sees, how a
 * handle and a search are folded, and the error a store throws when its
 * database cannot be reached. Each store reads its own column types (SQLite
 * has no booleans and keeps JSON as text) into these shapes first.
 */

/** A users row, with the column types normalised. */
export type UserRow = {
	id: string;
	handle: string;
	display_name: string;
	verified: boolean;
	premium: boolean;
	settings: UserSettings;
	created_at: number;
};

/** A relation between two accounts, as relationsBetween reads it: the callee's towards the caller, and blocks both ways. */
export type RelationRow = { kind: RelationKind; owner_id: string };

export type SessionRow = { id: string; user_id: string; expires_at: number; revoked_at: number | null };

export type DeviceKeyRow = { device_id: string; session_id: string; public_key: string; created_at: number };

/** A reported account, as reportedAccounts reads it: its handle, how many reported it, and when last. */
export type ReportedAccountRow = { handle: string; reports: number; last_report_at: number };

export type CallLinkRow = { id: string; owner_id: string; admit: 'anyone' | 'owner'; title: string; created_at: number; last_used_at: number };

export type CallRow = {
	call_id: string;
	user_id: string;
	other_handle: string;
	other_display_name: string;
	direction: 'outgoing' | 'incoming';
	media: 'audio' | 'video';
	outcome: CallOutcome;
	started_at: number;
	duration_ms: number;
	seq: number;
};

/**
 * Handles are stored lowercase and looked up folded, so `Ada` and `ada` are
 * one account in either store. (The signaling and HTTP schemas lowercase them
 * already; the store does not rely on it.)
 */
export function handleKey(handle: string): string {
	return handle.toLowerCase();
}

/**
 * A display name folded for prefix search, with JavaScript's lowercasing,
 * which knows all of Unicode ("Émile" is found by "émi"). NOTE: SQLite's
 * lower() folds ASCII only, and PostgreSQL's follows the database's locale:
 * folding in JavaScript gives both stores the same answers.
 */
export function searchFold(text: string): string {
	return text.toLowerCase();
}

/** A LIKE pattern for names starting with `prefix`, with `\` as the escape character. */
export function prefixPattern(prefix: string): string {
	return `${searchFold(prefix).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function toUser(row: UserRow): User {
	return {
		id: row.id,
		handle: row.handle,
		// NOTE: names stored before display names were checked (util/displayText) are shown without
		// the unsafe characters, so that no old name reaches a token or another client as it is.
		displayName: withoutUnsafe(row.display_name, row.handle),
		verified: row.verified,
		premium: row.premium,
		settings: withDefaultSettings(row.settings),
		createdAt: row.created_at,
	};
}

export function toPublic(row: UserRow): PublicUser {
	const user = toUser(row);
	return { handle: user.handle, displayName: user.displayName, verified: user.verified };
}

export function toRelationsBetween(rows: readonly RelationRow[], callerId: string, calleeId: string): RelationsBetween {
	const has = (kind: RelationKind, ownerId: string) => rows.some((r) => r.kind === kind && r.owner_id === ownerId);
	return {
		calleeHasCallerAsContact: has('contact', calleeId),
		calleeFollowsCaller: has('follow', calleeId),
		calleeBlockedCaller: has('block', calleeId),
		callerBlockedCallee: has('block', callerId),
	};
}

export function toSession(row: SessionRow | undefined): Session | undefined {
	return row && { id: row.id, userId: row.user_id, expiresAt: row.expires_at, revoked: row.revoked_at !== null };
}

export function toDeviceKey(row: DeviceKeyRow): DeviceKey {
	return { deviceId: row.device_id, sessionId: row.session_id, publicKey: row.public_key, createdAt: row.created_at };
}

export function toReportedAccount(row: ReportedAccountRow): ReportedAccount {
	return { handle: row.handle, reports: row.reports, lastReportAt: row.last_report_at };
}

export function toCallLink(row: CallLinkRow): CallLink {
	return { id: row.id, ownerId: row.owner_id, admit: row.admit, title: row.title, createdAt: row.created_at, lastUsedAt: row.last_used_at };
}

export function toCallRecord(row: CallRow): CallRecord {
	return {
		callId: row.call_id,
		userId: row.user_id,
		otherHandle: row.other_handle,
		otherDisplayName: withoutUnsafe(row.other_display_name, row.other_handle),
		direction: row.direction,
		media: row.media,
		outcome: row.outcome,
		startedAt: row.started_at,
		durationMs: row.duration_ms,
		cursor: { startedAt: row.started_at, seq: row.seq },
	};
}

/**
 * What a store throws when its database cannot answer now (PostgreSQL down or
 * restarting, SQLite locked past its busy timeout): 503 `service_unavailable`.
 * The cause is kept for the log; the client sees only the code and message.
 */
export function storeUnavailable(cause: unknown): AppError {
	return new AppError('service_unavailable', 'the account store is unavailable; try again shortly', { cause });
}

/** What a store throws when a write refers to an account that is gone (deleted meanwhile): `not_found`. */
export function missingAccount(cause: unknown): AppError {
	return new AppError('not_found', 'no such account', { cause });
}

/**
 * What putDeviceKey throws for a session that is not live (revoked, unknown or another account's):
 * `unauthorized`, as the token of such a session gets on every account route.
 */
export function sessionEnded(): AppError {
	return new AppError('unauthorized', 'the session has ended');
}

/** What createLink throws for an id that is taken (never for a random one): `conflict`. */
export function linkTaken(cause?: unknown): AppError {
	return new AppError('conflict', 'that link id is taken', { cause });
}
