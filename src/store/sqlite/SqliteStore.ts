import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../errors';
import { handleKey, linkTaken, missingAccount, prefixPattern, searchFold, sessionEnded, storeUnavailable, toCallLink, toCallRecord, toDeviceKey, toPublic, toRelationsBetween, toReportedAccount, toSession, toUser, type CallLinkRow, type CallRow, type DeviceKeyRow, type RelationRow, type ReportedAccountRow, type SessionRow, type UserRow } from '../rows';
import { DEFAULT_SETTINGS } from '../types';
import type { CallLink, CallRecord, DeviceKey, HistoryCursor, PublicUser, QueuedWebhook, RelationKind, RelationsBetween, ReportedAccount, Session, Store, StoreHealth, User, UserSettings } from '../types';
import { migrate } from './migrations';
import { fromSqlite, prepare, type SqliteUserRow } from './statements';

/** Errors that mean the database cannot answer now, not that the request is wrong. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|PROTOCOL)/;

/**
 * The embedded store: one SQLite file (better-sqlite3), WAL journal,
 * `synchronous = FULL`: a write is on disk when its statement returns, so an
 * acknowledged write survives a crash of the process and a power loss. (In WAL
 * mode NORMAL would survive a process crash but could lose the last commits
 * on power loss; see docs/store.md.)
 *
 * better-sqlite3 is synchronous; the methods are async to fit the Store
 * interface. Statements are prepared once. Every method runs through
 * `#guard`, which turns "cannot answer now" errors into `service_unavailable`.
 */
export class SqliteStore implements Store {
	readonly #db: Database.Database;
	readonly #statements: ReturnType<typeof prepare>;
	#available = true;

	private constructor(db: Database.Database) {
		this.#db = db;
		this.#statements = prepare(db);
	}

	/**
	 * Opens (creating folders and the file if needed) and migrates the database at `file`.
	 * `busyTimeoutMs`: how long a statement waits for another process's lock before
	 * `service_unavailable`.
	 */
	static open(file: string, { busyTimeoutMs = 5000 }: { busyTimeoutMs?: number } = {}): SqliteStore {
		if (file !== ':memory:') {
			fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
		}
		const db = new Database(file);
		db.pragma('journal_mode = WAL');
		db.pragma('synchronous = FULL');
		db.pragma('foreign_keys = ON');
		db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
		// NOTE: SQLite's lower() folds ASCII only; searches fold with JavaScript's (rows.ts searchFold).
		db.function('js_lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? searchFold(text) : text));
		migrate(db);
		return new SqliteStore(db);
	}

	/** An online copy of the database to `file` (safe while the node runs). */
	async backup(file: string): Promise<void> {
		fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
		await this.#db.backup(file);
	}

	async createUser({ handle, displayName, passwordHash }: { handle: string; displayName: string; passwordHash: string }): Promise<User> {
		const row: SqliteUserRow = {
			id: randomUUID(),
			handle: handleKey(handle),
			display_name: displayName,
			verified: 0,
			premium: 0,
			settings: JSON.stringify(DEFAULT_SETTINGS),
			created_at: Date.now(),
		};
		this.#guard(() => {
			try {
				this.#statements.insertUser.run({ ...row, password_hash: passwordHash });
			} catch (error) {
				if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
					throw new AppError('conflict', 'that handle is taken');
				}
				throw error;
			}
		});
		return toUser(fromSqlite(row));
	}

	async userById(id: string): Promise<User | undefined> {
		const row = this.#guard(() => this.#statements.userById.get(id) as SqliteUserRow | undefined);
		return row && toUser(fromSqlite(row));
	}

	async userByHandle(handle: string): Promise<User | undefined> {
		const row = this.#guard(() => this.#statements.userByHandle.get(handleKey(handle)) as SqliteUserRow | undefined);
		return row && toUser(fromSqlite(row));
	}

	async passwordHash(userId: string): Promise<string | undefined> {
		return this.#guard(() => (this.#statements.passwordHash.get(userId) as { password_hash: string } | undefined)?.password_hash);
	}

	async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
		this.#guard(() => this.#statements.setPasswordHash.run(passwordHash, userId));
	}

	async updateUser(userId: string, changes: { displayName?: string; verified?: boolean; premium?: boolean; settings?: UserSettings }): Promise<User> {
		const update = this.#db.transaction(() => {
			const row = this.#statements.userById.get(userId) as SqliteUserRow | undefined;
			if (!row) {
				throw new AppError('not_found', 'no such account');
			}
			const next: SqliteUserRow = {
				...row,
				display_name: changes.displayName ?? row.display_name,
				verified: changes.verified === undefined ? row.verified : Number(changes.verified),
				premium: changes.premium === undefined ? row.premium : Number(changes.premium),
				settings: changes.settings ? JSON.stringify(changes.settings) : row.settings,
			};
			this.#statements.updateUser.run(next);
			return next;
		});
		return toUser(fromSqlite(this.#guard(update)));
	}

	async deleteUser(userId: string): Promise<void> {
		// Relations, sessions, history, device keys, reports by it and about it, and call links go with it (ON DELETE CASCADE).
		this.#guard(() => this.#statements.deleteUser.run(userId));
	}

	async searchUsers({ prefix, after, limit }: { prefix: string; after?: string; limit: number }): Promise<PublicUser[]> {
		const rows = this.#guard(() => this.#statements.searchUsers.all({ pattern: prefixPattern(prefix), after: after ?? '', limit }) as SqliteUserRow[]);
		return rows.map((row) => toPublic(fromSqlite(row)));
	}

	async setRelation(kind: RelationKind, ownerId: string, targetHandle: string, on: boolean): Promise<string | undefined> {
		return this.#guard(this.#db.transaction(() => {
			const params = { kind, ownerId, targetHandle: handleKey(targetHandle), now: Date.now() };
			const target = this.#statements.userIdByHandle.get(params.targetHandle) as { id: string } | undefined;
			// NOTE: the same statements run whether or not the handle exists (they look it up again, by
			// the same index), and the count always changes, so every call commits one write.
			(on ? this.#statements.addRelation : this.#statements.removeRelation).run(params);
			this.#statements.countRelationWrite.run(ownerId);
			return target?.id;
		}));
	}

	async listRelations(kind: RelationKind, ownerId: string): Promise<PublicUser[]> {
		return this.#guard(() => this.#statements.listRelations.all(kind, ownerId) as SqliteUserRow[]).map((row) => toPublic(fromSqlite(row)));
	}

	async relationsBetween(callerId: string, calleeId: string): Promise<RelationsBetween> {
		const rows = this.#guard(() => this.#statements.relationsBetween.all({ callerId, calleeId }) as RelationRow[]);
		return toRelationsBetween(rows, callerId, calleeId);
	}

	async createSession({ id, userId, refreshHash, expiresAt }: { id: string; userId: string; refreshHash: string; expiresAt: number }): Promise<void> {
		this.#guard(() => this.#statements.createSession.run(id, userId, refreshHash, expiresAt));
	}

	async session(id: string): Promise<Session | undefined> {
		return toSession(this.#guard(() => this.#statements.session.get(id) as SessionRow | undefined));
	}

	async sessionByRefreshHash(refreshHash: string): Promise<Session | undefined> {
		return toSession(this.#guard(() => this.#statements.sessionByRefreshHash.get(refreshHash) as SessionRow | undefined));
	}

	async sessionByRetiredRefreshHash(refreshHash: string): Promise<(Session & { retiredAt: number; latest: boolean }) | undefined> {
		const row = this.#guard(() => this.#statements.sessionByRetiredRefreshHash.get(refreshHash) as (SessionRow & { retired_at: number; latest: number }) | undefined);
		const session = toSession(row);
		return session && { ...session, retiredAt: row!.retired_at, latest: row!.latest === 1 };
	}

	async rotateSession(id: string, fromHash: string, toHash: string, expiresAt: number): Promise<boolean> {
		const now = Date.now();
		return this.#guard(this.#db.transaction(() => {
			if (this.#statements.rotateSession.run({ id, fromHash, toHash, expiresAt }).changes !== 1) {
				return false;
			}
			this.#statements.retireRefreshHash.run({ hash: fromHash, sessionId: id, now });
			// Older than one refresh lifetime: that token would have expired anyway.
			this.#statements.pruneRetiredRefreshHashes.run({ sessionId: id, before: now - (expiresAt - now) });
			return true;
		}));
	}

	async revokeSession(id: string): Promise<void> {
		this.#guard(this.#db.transaction(() => {
			this.#statements.revokeSession.run(Date.now(), id);
			this.#statements.deleteSessionDeviceKeys.run(id);
		}));
	}

	async revokeSessions(userId: string, exceptId?: string): Promise<void> {
		this.#guard(this.#db.transaction(() => {
			this.#statements.revokeSessions.run(Date.now(), userId, exceptId ?? '');
			// Every key of the account is bound to one of its sessions: all but the excepted one's go.
			this.#statements.deleteOtherDeviceKeys.run(userId, exceptId ?? '');
		}));
	}

	async putDeviceKey({ userId, deviceId, sessionId, publicKey }: { userId: string; deviceId: string; sessionId: string; publicKey: string }): Promise<void> {
		const params = { userId, deviceId, sessionId, publicKey, now: Date.now() };
		this.#guard(this.#db.transaction(() => {
			// NOTE: in the write transaction, so that no revoke (from this process or another) runs between.
			if (!this.#statements.liveSession.get(sessionId, userId)) {
				throw sessionEnded();
			}
			this.#statements.deleteSessionOtherDeviceKey.run(params);
			this.#statements.putDeviceKey.run(params);
		}).immediate);
	}

	async deviceKey(userId: string, deviceId: string): Promise<DeviceKey | undefined> {
		const row = this.#guard(() => this.#statements.deviceKey.get(userId, deviceId) as DeviceKeyRow | undefined);
		return row && toDeviceKey(row);
	}

	async deviceKeys(userId: string): Promise<DeviceKey[]> {
		return this.#guard(() => this.#statements.deviceKeys.all(userId) as DeviceKeyRow[]).map(toDeviceKey);
	}

	async addReport({ reporterId, reportedId, at }: { reporterId: string; reportedId: string; at: number }): Promise<void> {
		this.#guard(() => this.#statements.addReport.run({ reporterId, reportedId, at }));
	}

	async reportsAgainst(reportedId: string, since: number): Promise<number> {
		return this.#guard(() => (this.#statements.reportsAgainst.get(reportedId, since) as { reports: number }).reports);
	}

	async reportedAccounts(since: number, limit: number): Promise<ReportedAccount[]> {
		return this.#guard(() => this.#statements.reportedAccounts.all(since, limit) as ReportedAccountRow[]).map(toReportedAccount);
	}

	async rangSince(userId: string, handle: string, since: number): Promise<boolean> {
		return this.#guard(() => this.#statements.rangSince.get(userId, handleKey(handle), since)) !== undefined;
	}

	async createLink({ id, ownerId, admit, title, at }: { id: string; ownerId: string; admit: 'anyone' | 'owner'; title: string; at: number }): Promise<CallLink> {
		const row: CallLinkRow = { id, owner_id: ownerId, admit, title, created_at: at, last_used_at: at };
		this.#guard(() => {
			try {
				this.#statements.createLink.run(row);
			} catch (error) {
				if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
					throw linkTaken(error);
				}
				throw error;
			}
		});
		return toCallLink(row);
	}

	async link(id: string): Promise<CallLink | undefined> {
		const row = this.#guard(() => this.#statements.link.get(id) as CallLinkRow | undefined);
		return row && toCallLink(row);
	}

	async links(ownerId: string): Promise<CallLink[]> {
		return this.#guard(() => this.#statements.links.all(ownerId) as CallLinkRow[]).map(toCallLink);
	}

	async touchLink(id: string, at: number): Promise<void> {
		this.#guard(() => this.#statements.touchLink.run(at, id));
	}

	async deleteLink(ownerId: string, id: string): Promise<boolean> {
		return this.#guard(() => this.#statements.deleteLink.run(id, ownerId)).changes > 0;
	}

	async addCallRecord(record: CallRecord): Promise<void> {
		this.#guard(() => this.#statements.addCallRecord.run({
			call_id: record.callId,
			user_id: record.userId,
			other_handle: record.otherHandle,
			other_display_name: record.otherDisplayName,
			direction: record.direction,
			media: record.media,
			outcome: record.outcome,
			started_at: record.startedAt,
			duration_ms: record.durationMs,
		}));
	}

	async callHistory(userId: string, { before, limit }: { before?: HistoryCursor; limit: number }): Promise<CallRecord[]> {
		const rows = this.#guard(() => this.#statements.callHistory.all({
			userId, startedAt: before?.startedAt ?? Number.MAX_SAFE_INTEGER, seq: before?.seq ?? Number.MAX_SAFE_INTEGER, limit,
		}) as CallRow[]);
		return rows.map(toCallRecord);
	}

	async queueWebhook(nodeId: string, urls: readonly string[], event: { eventId: string; body: string; createdAt: number }, max: number): Promise<string[]> {
		return this.#guard(() => this.#db.transaction(() => urls.filter((url) => {
			const { n } = this.#statements.queuedWebhookCount.get(nodeId, url) as { n: number };
			if (n >= max) {
				return true;
			}
			this.#statements.queueWebhook.run({ nodeId, url, ...event });
			return false;
		}))());
	}

	async queuedWebhooks(nodeId: string, url: string, limit: number): Promise<QueuedWebhook[]> {
		return this.#guard(() => this.#statements.queuedWebhooks.all(nodeId, url, limit) as QueuedWebhook[]);
	}

	async webhookDelivered(seq: number): Promise<void> {
		this.#guard(() => this.#statements.webhookDelivered.run(seq));
	}

	health(): StoreHealth {
		return { kind: 'sqlite', available: this.#available };
	}

	async close(): Promise<void> {
		if (this.#db.open) {
			this.#db.close();
		}
	}

	/**
	 * Runs `work`: a lock held past the busy timeout, a full disk or an I/O error becomes
	 * `service_unavailable`, a row for an account that is gone `not_found` (as PostgresStore maps them).
	 */
	#guard<T>(work: () => T): T {
		try {
			const result = work();
			this.#available = true;
			return result;
		} catch (error) {
			const code = (error as { code?: unknown }).code;
			this.#available &&= !(typeof code === 'string' && UNAVAILABLE.test(code));
			throw typeof code !== 'string' ? error
				: UNAVAILABLE.test(code) ? storeUnavailable(error)
				: code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ? missingAccount(error)
				: error;
		}
	}
}
