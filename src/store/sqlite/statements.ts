import type Database from 'better-sqlite3';
import type { UserRow } from '../rows';
import type { UserSettings } from '../types';

/** A users row as SQLite keeps it: 0/1 for booleans, settings as JSON text. */
export type SqliteUserRow = Omit<UserRow, 'verified' | 'premium' | 'settings'> & { verified: number; premium: number; settings: string };

export function fromSqlite(row: SqliteUserRow): UserRow {
	return { ...row, verified: row.verified === 1, premium: row.premium === 1, settings: JSON.parse(row.settings) as UserSettings };
}

export function prepare(db: Database.Database) {
	return {
		insertUser: db.prepare(`INSERT INTO users (id, handle, display_name, password_hash, verified, premium, settings, created_at)
			VALUES (@id, @handle, @display_name, @password_hash, @verified, @premium, @settings, @created_at)`),
		userById: db.prepare('SELECT * FROM users WHERE id = ?'),
		userByHandle: db.prepare('SELECT * FROM users WHERE handle = ?'),
		passwordHash: db.prepare('SELECT password_hash FROM users WHERE id = ?'),
		setPasswordHash: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
		updateUser: db.prepare(`UPDATE users SET display_name = @display_name, verified = @verified, premium = @premium,
			settings = @settings WHERE id = @id`),
		deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
		searchUsers: db.prepare(`SELECT * FROM users u
			WHERE (u.handle LIKE @pattern ESCAPE '\\' OR js_lower(u.display_name) LIKE @pattern ESCAPE '\\')
			AND json_extract(u.settings, '$.discoverable') = 1
			AND u.handle > @after
			ORDER BY u.handle LIMIT @limit`),
		userIdByHandle: db.prepare('SELECT id FROM users WHERE handle = ?'),
		addRelation: db.prepare(`INSERT OR IGNORE INTO relations (kind, owner_id, target_id, created_at)
			SELECT @kind, @ownerId, id, @now FROM users WHERE handle = @targetHandle`),
		removeRelation: db.prepare(`DELETE FROM relations WHERE kind = @kind AND owner_id = @ownerId
			AND target_id = (SELECT id FROM users WHERE handle = @targetHandle)`),
		countRelationWrite: db.prepare('UPDATE users SET relation_writes = relation_writes + 1 WHERE id = ?'),
		// Discoverable targets, and hidden ones that have the owner as a contact or follow it (never a block:
		// the list must not change with one).
		listRelations: db.prepare(`SELECT u.* FROM relations r JOIN users u ON u.id = r.target_id
			WHERE r.kind = ? AND r.owner_id = ?
			AND (json_extract(u.settings, '$.discoverable') = 1 OR EXISTS (SELECT 1 FROM relations back
				WHERE back.owner_id = u.id AND back.target_id = r.owner_id AND back.kind IN ('contact', 'follow')))
			ORDER BY u.handle`),
		relationsBetween: db.prepare(`SELECT kind, owner_id FROM relations
			WHERE (owner_id = @calleeId AND target_id = @callerId) OR (owner_id = @callerId AND target_id = @calleeId AND kind = 'block')`),
		createSession: db.prepare('INSERT INTO sessions (id, user_id, refresh_hash, expires_at) VALUES (?, ?, ?, ?)'),
		session: db.prepare('SELECT id, user_id, expires_at, revoked_at FROM sessions WHERE id = ?'),
		sessionByRefreshHash: db.prepare('SELECT id, user_id, expires_at, revoked_at FROM sessions WHERE refresh_hash = ?'),
		sessionByRetiredRefreshHash: db.prepare(`SELECT s.id, s.user_id, s.expires_at, s.revoked_at, r.retired_at, s.previous_refresh_hash = r.hash AS latest
			FROM retired_refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?`),
		rotateSession: db.prepare(`UPDATE sessions SET previous_refresh_hash = refresh_hash, refresh_hash = @toHash, expires_at = @expiresAt
			WHERE id = @id AND refresh_hash = @fromHash`),
		retireRefreshHash: db.prepare('INSERT OR IGNORE INTO retired_refresh_tokens (hash, session_id, retired_at) VALUES (@hash, @sessionId, @now)'),
		pruneRetiredRefreshHashes: db.prepare('DELETE FROM retired_refresh_tokens WHERE session_id = @sessionId AND retired_at < @before'),
		revokeSession: db.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
		revokeSessions: db.prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id != ? AND revoked_at IS NULL'),
		deleteSessionDeviceKeys: db.prepare('DELETE FROM device_keys WHERE session_id = ?'),
		deleteOtherDeviceKeys: db.prepare('DELETE FROM device_keys WHERE user_id = ? AND session_id != ?'),
		liveSession: db.prepare('SELECT 1 FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL'),
		deleteSessionOtherDeviceKey: db.prepare(`DELETE FROM device_keys WHERE session_id = @sessionId
			AND NOT (user_id = @userId AND device_id = @deviceId)`),
		putDeviceKey: db.prepare(`INSERT INTO device_keys (user_id, device_id, session_id, public_key, created_at)
			VALUES (@userId, @deviceId, @sessionId, @publicKey, @now)
			ON CONFLICT (user_id, device_id) DO UPDATE SET session_id = excluded.session_id, public_key = excluded.public_key, created_at = excluded.created_at`),
		deviceKey: db.prepare('SELECT device_id, session_id, public_key, created_at FROM device_keys WHERE user_id = ? AND device_id = ?'),
		deviceKeys: db.prepare('SELECT device_id, session_id, public_key, created_at FROM device_keys WHERE user_id = ? ORDER BY created_at, device_id'),
		addReport: db.prepare(`INSERT INTO reports (reporter_id, reported_id, at) VALUES (@reporterId, @reportedId, @at)
			ON CONFLICT (reporter_id, reported_id) DO UPDATE SET at = excluded.at`),
		reportsAgainst: db.prepare('SELECT count(*) AS reports FROM reports WHERE reported_id = ? AND at >= ?'),
		reportedAccounts: db.prepare(`SELECT u.handle, count(*) AS reports, max(r.at) AS last_report_at
			FROM reports r JOIN users u ON u.id = r.reported_id WHERE r.at >= ?
			GROUP BY r.reported_id, u.handle ORDER BY reports DESC, last_report_at DESC, u.handle LIMIT ?`),
		rangSince: db.prepare(`SELECT 1 FROM call_history WHERE user_id = ? AND direction = 'incoming' AND other_handle = ? AND started_at >= ?
			LIMIT 1`),
		createLink: db.prepare(`INSERT INTO call_links (id, owner_id, admit, title, created_at, last_used_at)
			VALUES (@id, @owner_id, @admit, @title, @created_at, @last_used_at)`),
		link: db.prepare('SELECT id, owner_id, admit, title, created_at, last_used_at FROM call_links WHERE id = ?'),
		links: db.prepare('SELECT id, owner_id, admit, title, created_at, last_used_at FROM call_links WHERE owner_id = ? ORDER BY created_at DESC, id'),
		touchLink: db.prepare('UPDATE call_links SET last_used_at = ? WHERE id = ?'),
		deleteLink: db.prepare('DELETE FROM call_links WHERE id = ? AND owner_id = ?'),
		addCallRecord: db.prepare(`INSERT INTO call_history (call_id, user_id, other_handle, other_display_name, direction, media, outcome, started_at, duration_ms)
			VALUES (@call_id, @user_id, @other_handle, @other_display_name, @direction, @media, @outcome, @started_at, @duration_ms)`),
		callHistory: db.prepare(`SELECT *, rowid AS seq FROM call_history WHERE user_id = @userId
			AND (started_at < @startedAt OR (started_at = @startedAt AND rowid < @seq))
			ORDER BY started_at DESC, rowid DESC LIMIT @limit`),
		queuedWebhookCount: db.prepare('SELECT count(*) AS n FROM webhook_queue WHERE node_id = ? AND url = ?'),
		queueWebhook: db.prepare(`INSERT INTO webhook_queue (node_id, url, event_id, body, created_at)
			VALUES (@nodeId, @url, @eventId, @body, @createdAt)`),
		queuedWebhooks: db.prepare(`SELECT seq, url, event_id AS eventId, body, created_at AS createdAt FROM webhook_queue
			WHERE node_id = ? AND url = ? ORDER BY seq LIMIT ?`),
		webhookDelivered: db.prepare('DELETE FROM webhook_queue WHERE seq = ?'),
	};
}
