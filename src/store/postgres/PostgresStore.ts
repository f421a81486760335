import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../../errors';
import type { Logger } from '../../logging';
import { describeUrl } from '../../util';
import { handleKey, linkTaken, prefixPattern, searchFold, sessionEnded, toCallLink, toCallRecord, toDeviceKey, toPublic, toRelationsBetween, toReportedAccount, toSession, toUser, type CallLinkRow, type CallRow, type DeviceKeyRow, type RelationRow, type ReportedAccountRow, type SessionRow, type UserRow } from '../rows';
import { DEFAULT_SETTINGS } from '../types';
import type { CallLink, CallRecord, DeviceKey, HistoryCursor, PublicUser, QueuedWebhook, RelationKind, RelationsBetween, ReportedAccount, Session, Store, StoreHealth, User, UserSettings } from '../types';
import { migrate } from './migrations';
import { createPool, isUnavailable, storeError, type PostgresOptions } from './pool';
import { inTransaction } from './transaction';

const USER_COLUMNS = 'id, handle, display_name, verified, premium, settings, created_at';
const SESSION_COLUMNS = 'id, user_id, expires_at, revoked_at';
const DEVICE_KEY_COLUMNS = 'device_id, session_id, public_key, created_at';
const LINK_COLUMNS = 'id, owner_id, admit, title, created_at, last_used_at';
const UNIQUE_VIOLATION = '23505';

/**
 * The shared store of a fleet: PostgreSQL through a pool of `pg` connections.
 * The same contract as SqliteStore (test/integration/storeContract.test.ts):
 * a method resolves after its transaction committed; what cannot reach the
 * database throws `service_unavailable`, and the pool reconnects by itself.
 */
export class PostgresStore implements Store {
	readonly #pool: pg.Pool;
	#available = true;

	private constructor(pool: pg.Pool) {
		this.#pool = pool;
	}

	/**
	 * Connects and migrates. While PostgreSQL cannot be reached it tries again
	 * until `startupTimeoutMs`, then fails naming the server (never the password);
	 * any other error (wrong password, no such database, a newer schema) fails at once.
	 */
	static async open(options: PostgresOptions & { startupTimeoutMs: number }, logger: Logger): Promise<PostgresStore> {
		const where = describeUrl(options.url);
		const pool = createPool(options, (error) => logger.warn('store connection lost', { store: where, error: error.message }));
		const deadline = Date.now() + options.startupTimeoutMs;
		for (let attempt = 1; ; attempt++) {
			try {
				await migrate(pool);
				logger.info('store ready', { store: where, kind: 'postgres' });
				return new PostgresStore(pool);
			} catch (error) {
				const message = (error as Error).message;
				if (!isUnavailable(error) || Date.now() >= deadline) {
					await pool.end().catch(() => undefined);
					const waited = isUnavailable(error) ? ` within ${Math.round(options.startupTimeoutMs / 1000)} s` : '';
					throw new Error(`cannot open the PostgreSQL store at ${where}${waited}: ${message}`, { cause: error });
				}
				logger.warn('store not reachable yet', { store: where, attempt, error: message });
				await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 250 * attempt, Math.max(0, deadline - Date.now()))));
			}
		}
	}

	async createUser({ handle, displayName, passwordHash }: { handle: string; displayName: string; passwordHash: string }): Promise<User> {
		const row: UserRow = {
			id: randomUUID(), handle: handleKey(handle), display_name: displayName, verified: false, premium: false, settings: DEFAULT_SETTINGS, created_at: Date.now(),
		};
		try {
			await this.#query(`INSERT INTO users (id, handle, display_name, display_name_folded, password_hash, settings, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, [row.id, row.handle, displayName, searchFold(displayName), passwordHash, row.settings, row.created_at]);
		} catch (error) {
			if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
				throw new AppError('conflict', 'that handle is taken');
			}
			throw error;
		}
		return toUser(row);
	}

	async userById(id: string): Promise<User | undefined> {
		const [row] = await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
		return row && toUser(row);
	}

	async userByHandle(handle: string): Promise<User | undefined> {
		const [row] = await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE handle = $1`, [handleKey(handle)]);
		return row && toUser(row);
	}

	async passwordHash(userId: string): Promise<string | undefined> {
		const [row] = await this.#query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]);
		return row?.password_hash;
	}

	async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
		await this.#query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, passwordHash]);
	}

	async updateUser(userId: string, changes: { displayName?: string; verified?: boolean; premium?: boolean; settings?: UserSettings }): Promise<User> {
		// One statement: a missing change keeps the stored value.
		const [row] = await this.#query<UserRow>(`UPDATE users SET display_name = coalesce($2, display_name),
			display_name_folded = coalesce($3, display_name_folded), verified = coalesce($4, verified),
			premium = coalesce($5, premium), settings = coalesce($6, settings)
			WHERE id = $1 RETURNING ${USER_COLUMNS}`, [
			userId, changes.displayName ?? null, changes.displayName === undefined ? null : searchFold(changes.displayName),
			changes.verified ?? null, changes.premium ?? null, changes.settings ?? null,
		]);
		if (!row) {
			throw new AppError('not_found', 'no such account');
		}
		return toUser(row);
	}

	async deleteUser(userId: string): Promise<void> {
		// Relations, sessions, history, device keys, reports by it and about it, and call links go with it (ON DELETE CASCADE).
		await this.#query('DELETE FROM users WHERE id = $1', [userId]);
	}

	async searchUsers({ prefix, after, limit }: { prefix: string; after?: string; limit: number }): Promise<PublicUser[]> {
		const rows = await this.#query<UserRow>(`SELECT ${USER_COLUMNS} FROM users
			WHERE (handle LIKE $1 OR display_name_folded LIKE $1) AND (settings->>'discoverable')::boolean IS TRUE AND handle > $2
			ORDER BY handle LIMIT $3`, [prefixPattern(prefix), after ?? '', limit]);
		return rows.map(toPublic);
	}

	async setRelation(kind: RelationKind, ownerId: string, targetHandle: string, on: boolean): Promise<string | undefined> {
		const handle = handleKey(targetHandle);
		return this.#transaction(async (client) => {
			const target = (await client.query<{ id: string }>('SELECT id FROM users WHERE handle = $1', [handle])).rows[0];
			// NOTE: the same statements run whether or not the handle exists, and the count always
			// changes, so every call commits one write (its timing does not tell; see SqliteStore).
			if (on) {
				await client.query(`INSERT INTO relations (kind, owner_id, target_id, created_at)
					SELECT $1, $2, id, $4 FROM users WHERE handle = $3 ON CONFLICT DO NOTHING`, [kind, ownerId, handle, Date.now()]);
			} else {
				await client.query(`DELETE FROM relations WHERE kind = $1 AND owner_id = $2
					AND target_id = (SELECT id FROM users WHERE handle = $3)`, [kind, ownerId, handle]);
			}
			await client.query('UPDATE users SET relation_writes = relation_writes + 1 WHERE id = $1', [ownerId]);
			return target?.id;
		});
	}

	async listRelations(kind: RelationKind, ownerId: string): Promise<PublicUser[]> {
		// Discoverable targets, and hidden ones that have the owner as a contact or follow it (never a
		// block: the list must not change with one).
		const rows = await this.#query<UserRow>(`SELECT u.id, u.handle, u.display_name, u.verified, u.premium, u.settings, u.created_at
			FROM relations r JOIN users u ON u.id = r.target_id
			WHERE r.kind = $1 AND r.owner_id = $2
			AND ((u.settings->>'discoverable')::boolean IS TRUE OR EXISTS (SELECT 1 FROM relations back
				WHERE back.owner_id = u.id AND back.target_id = r.owner_id AND back.kind IN ('contact', 'follow')))
			ORDER BY u.handle`, [kind, ownerId]);
		return rows.map(toPublic);
	}

	async relationsBetween(callerId: string, calleeId: string): Promise<RelationsBetween> {
		const rows = await this.#query<RelationRow>(`SELECT kind, owner_id FROM relations
			WHERE (owner_id = $2 AND target_id = $1) OR (owner_id = $1 AND target_id = $2 AND kind = 'block')`, [callerId, calleeId]);
		return toRelationsBetween(rows, callerId, calleeId);
	}

	async createSession({ id, userId, refreshHash, expiresAt }: { id: string; userId: string; refreshHash: string; expiresAt: number }): Promise<void> {
		await this.#query('INSERT INTO sessions (id, user_id, refresh_hash, expires_at) VALUES ($1, $2, $3, $4)', [id, userId, refreshHash, expiresAt]);
	}

	async session(id: string): Promise<Session | undefined> {
		return toSession((await this.#query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id]))[0]);
	}

	async sessionByRefreshHash(refreshHash: string): Promise<Session | undefined> {
		return toSession((await this.#query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE refresh_hash = $1`, [refreshHash]))[0]);
	}

	async sessionByRetiredRefreshHash(refreshHash: string): Promise<(Session & { retiredAt: number; latest: boolean }) | undefined> {
		const [row] = await this.#query<SessionRow & { retired_at: number; latest: boolean }>(`SELECT s.id, s.user_id, s.expires_at, s.revoked_at,
			r.retired_at, s.previous_refresh_hash IS NOT DISTINCT FROM r.hash AS latest
			FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1`, [refreshHash]);
		const session = toSession(row);
		return session && { ...session, retiredAt: row!.retired_at, latest: row!.latest };
	}

	async rotateSession(id: string, fromHash: string, toHash: string, expiresAt: number): Promise<boolean> {
		const now = Date.now();
		return this.#transaction(async (client) => {
			// NOTE: a compare-and-swap. Under READ COMMITTED a second rotation with the same token waits
			// for the first to commit, then finds the hash changed and updates nothing.
			const rotated = await client.query(`UPDATE sessions SET previous_refresh_hash = refresh_hash, refresh_hash = $3, expires_at = $4
				WHERE id = $1 AND refresh_hash = $2`, [id, fromHash, toHash, expiresAt]);
			if (rotated.rowCount !== 1) {
				return false;
			}
			await client.query('INSERT INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [fromHash, id, now]);
			// Older than one refresh lifetime: that token would have expired anyway.
			await client.query('DELETE FROM retired_refresh_tokens WHERE session_id = $1 AND retired_at < $2', [id, now - (expiresAt - now)]);
			return true;
		});
	}

	async revokeSession(id: string): Promise<void> {
		await this.#transaction(async (client) => {
			await client.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, Date.now()]);
			await client.query('DELETE FROM device_keys WHERE session_id = $1', [id]);
		});
	}

	async revokeSessions(userId: string, exceptId?: string): Promise<void> {
		await this.#transaction(async (client) => {
			await client.query('UPDATE sessions SET revoked_at = $3 WHERE user_id = $1 AND id != $2 AND revoked_at IS NULL', [userId, exceptId ?? '', Date.now()]);
			// Every key of the account is bound to one of its sessions: all but the excepted one's go.
			await client.query('DELETE FROM device_keys WHERE user_id = $1 AND session_id != $2', [userId, exceptId ?? '']);
		});
	}

	async putDeviceKey({ userId, deviceId, sessionId, publicKey }: { userId: string; deviceId: string; sessionId: string; publicKey: string }): Promise<void> {
		await this.#transaction(async (client) => {
			// NOTE: the session's row stays locked until the commit. A revoke that came first has committed
			// (the lock waited for it, and the row is then read again: revoked, nothing stored); one that comes
			// after waits for this commit, and its DELETE, a new statement, sees the key and deletes it. Two
			// publishes of one session also take turns, so its one-device index never sees both.
			const live = await client.query(`SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
				FOR NO KEY UPDATE`, [sessionId, userId]);
			if (live.rowCount !== 1) {
				throw sessionEnded();
			}
			await client.query('DELETE FROM device_keys WHERE session_id = $1 AND NOT (user_id = $2 AND device_id = $3)', [sessionId, userId, deviceId]);
			await client.query(`INSERT INTO device_keys (user_id, device_id, session_id, public_key, created_at) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (user_id, device_id) DO UPDATE SET session_id = excluded.session_id, public_key = excluded.public_key, created_at = excluded.created_at`,
			[userId, deviceId, sessionId, publicKey, Date.now()]);
		});
	}

	async deviceKey(userId: string, deviceId: string): Promise<DeviceKey | undefined> {
		const [row] = await this.#query<DeviceKeyRow>(`SELECT ${DEVICE_KEY_COLUMNS} FROM device_keys WHERE user_id = $1 AND device_id = $2`, [userId, deviceId]);
		return row && toDeviceKey(row);
	}

	async deviceKeys(userId: string): Promise<DeviceKey[]> {
		const rows = await this.#query<DeviceKeyRow>(`SELECT ${DEVICE_KEY_COLUMNS} FROM device_keys WHERE user_id = $1 ORDER BY created_at, device_id`, [userId]);
		return rows.map(toDeviceKey);
	}

	async addReport({ reporterId, reportedId, at }: { reporterId: string; reportedId: string; at: number }): Promise<void> {
		await this.#query(`INSERT INTO reports (reporter_id, reported_id, at) VALUES ($1, $2, $3)
			ON CONFLICT (reporter_id, reported_id) DO UPDATE SET at = excluded.at`, [reporterId, reportedId, at]);
	}

	async reportsAgainst(reportedId: string, since: number): Promise<number> {
		const [row] = await this.#query<{ reports: number }>('SELECT count(*) AS reports FROM reports WHERE reported_id = $1 AND at >= $2', [reportedId, since]);
		return row!.reports;
	}

	async reportedAccounts(since: number, limit: number): Promise<ReportedAccount[]> {
		const rows = await this.#query<ReportedAccountRow>(`SELECT u.handle, count(*) AS reports, max(r.at) AS last_report_at
			FROM reports r JOIN users u ON u.id = r.reported_id WHERE r.at >= $1
			GROUP BY r.reported_id, u.handle ORDER BY reports DESC, last_report_at DESC, u.handle LIMIT $2`, [since, limit]);
		return rows.map(toReportedAccount);
	}

	async rangSince(userId: string, handle: string, since: number): Promise<boolean> {
		const rows = await this.#query(`SELECT 1 FROM call_history WHERE user_id = $1 AND direction = 'incoming' AND other_handle = $2 AND started_at >= $3
			LIMIT 1`, [userId, handleKey(handle), since]);
		return rows.length > 0;
	}

	async createLink({ id, ownerId, admit, title, at }: { id: string; ownerId: string; admit: 'anyone' | 'owner'; title: string; at: number }): Promise<CallLink> {
		try {
			const [row] = await this.#query<CallLinkRow>(`INSERT INTO call_links (${LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $5)
				RETURNING ${LINK_COLUMNS}`, [id, ownerId, admit, title, at]);
			return toCallLink(row!);
		} catch (error) {
			if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
				throw linkTaken(error);
			}
			throw error;
		}
	}

	async link(id: string): Promise<CallLink | undefined> {
		const [row] = await this.#query<CallLinkRow>(`SELECT ${LINK_COLUMNS} FROM call_links WHERE id = $1`, [id]);
		return row && toCallLink(row);
	}

	async links(ownerId: string): Promise<CallLink[]> {
		const rows = await this.#query<CallLinkRow>(`SELECT ${LINK_COLUMNS} FROM call_links WHERE owner_id = $1 ORDER BY created_at DESC, id`, [ownerId]);
		return rows.map(toCallLink);
	}

	async touchLink(id: string, at: number): Promise<void> {
		await this.#query('UPDATE call_links SET last_used_at = $2 WHERE id = $1', [id, at]);
	}

	async deleteLink(ownerId: string, id: string): Promise<boolean> {
		const rows = await this.#query('DELETE FROM call_links WHERE id = $1 AND owner_id = $2 RETURNING 1', [id, ownerId]);
		return rows.length > 0;
	}

	async addCallRecord(record: CallRecord): Promise<void> {
		await this.#query(`INSERT INTO call_history (call_id, user_id, other_handle, other_display_name, direction, media, outcome, started_at, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
			record.callId, record.userId, record.otherHandle, record.otherDisplayName, record.direction, record.media, record.outcome, record.startedAt, record.durationMs,
		]);
	}

	async callHistory(userId: string, { before, limit }: { before?: HistoryCursor; limit: number }): Promise<CallRecord[]> {
		const rows = await this.#query<CallRow>(`SELECT seq, call_id, user_id, other_handle, other_display_name, direction, media, outcome, started_at, duration_ms
			FROM call_history WHERE user_id = $1 AND (started_at, seq) < ($2, $3)
			ORDER BY started_at DESC, seq DESC LIMIT $4`, [
			userId, before?.startedAt ?? Number.MAX_SAFE_INTEGER, before?.seq ?? Number.MAX_SAFE_INTEGER, limit,
		]);
		return rows.map(toCallRecord);
	}

	async queueWebhook(nodeId: string, urls: readonly string[], event: { eventId: string; body: string; createdAt: number }, max: number): Promise<string[]> {
		return this.#transaction(async (client) => {
			const full: string[] = [];
			for (const url of urls) {
				// NOTE: one insert that counts first: a queue past `max` gets no row.
				const { rowCount } = await client.query(`INSERT INTO webhook_queue (node_id, url, event_id, body, created_at)
					SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM webhook_queue WHERE node_id = $1 AND url = $2) < $6`,
				[nodeId, url, event.eventId, event.body, event.createdAt, max]);
				if (rowCount === 0) {
					full.push(url);
				}
			}
			return full;
		});
	}

	async queuedWebhooks(nodeId: string, url: string, limit: number): Promise<QueuedWebhook[]> {
		const rows = await this.#query<{ seq: string; url: string; event_id: string; body: string; created_at: string }>(`SELECT seq, url, event_id, body, created_at
			FROM webhook_queue WHERE node_id = $1 AND url = $2 ORDER BY seq LIMIT $3`, [nodeId, url, limit]);
		return rows.map((row) => ({ seq: Number(row.seq), url: row.url, eventId: row.event_id, body: row.body, createdAt: Number(row.created_at) }));
	}

	async webhookDelivered(seq: number): Promise<void> {
		await this.#query('DELETE FROM webhook_queue WHERE seq = $1', [seq]);
	}

	health(): StoreHealth {
		const pool = this.#pool;
		return { kind: 'postgres', available: this.#available, connections: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } };
	}

	async close(): Promise<void> {
		if (!this.#pool.ended) {
			await this.#pool.end();
		}
	}

	/** One statement on any connection of the pool. */
	async #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
		try {
			const { rows } = await this.#pool.query<R>(text, values);
			this.#available = true;
			return rows;
		} catch (error) {
			throw this.#failed(error);
		}
	}

	/** `work` in one transaction on one connection (transaction.ts), with the store's error mapping. */
	async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
		try {
			const result = await inTransaction(this.#pool, work);
			this.#available = true;
			return result;
		} catch (error) {
			throw this.#failed(error);
		}
	}

	/** The error to throw for `error`; notes an unavailable database for health(). */
	#failed(error: unknown): unknown {
		if (isUnavailable(error)) {
			this.#available = false;
		}
		return storeError(error);
	}
}
