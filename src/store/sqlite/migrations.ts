import type Database from 'better-sqlite3';

/**
 * Schema migrations, in order. The database's `user_version` says how many
 * have run; each runs once, in its own transaction. Never edit a migration
 * that has shipped: add another.
 */
export const MIGRATIONS: readonly string[] = [
	// 1: accounts, relations, login sessions.
	`CREATE TABLE users (
		id TEXT PRIMARY KEY,
		handle TEXT NOT NULL UNIQUE,
		display_name TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		verified INTEGER NOT NULL DEFAULT 0,
		premium INTEGER NOT NULL DEFAULT 0,
		settings TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX users_display_name ON users (lower(display_name));
	CREATE TABLE relations (
		kind TEXT NOT NULL CHECK (kind IN ('contact', 'follow', 'block')),
		owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		target_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (kind, owner_id, target_id)
	) WITHOUT ROWID;
	CREATE INDEX relations_target ON relations (target_id, kind);
	CREATE TABLE sessions (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		refresh_hash TEXT NOT NULL UNIQUE,
		expires_at INTEGER NOT NULL,
		revoked_at INTEGER
	);
	CREATE INDEX sessions_user ON sessions (user_id);`,
	// 2: call history, one row per call and party.
	`CREATE TABLE call_history (
		call_id TEXT NOT NULL,
		user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		other_handle TEXT NOT NULL,
		other_display_name TEXT NOT NULL,
		direction TEXT NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
		media TEXT NOT NULL CHECK (media IN ('audio', 'video')),
		outcome TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		duration_ms INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX call_history_user ON call_history (user_id, started_at DESC);`,
	// 3: refresh-token reuse detection: the token a rotation replaced, and when.
	`ALTER TABLE sessions ADD COLUMN previous_refresh_hash TEXT;
	ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
	CREATE INDEX sessions_previous_refresh ON sessions (previous_refresh_hash);`,
	// 4: every refresh token a session's rotations replaced, not just the latest, for one refresh lifetime.
	// sessions.previous_refresh_hash stays (which one is the latest); rotated_at and its lookup index go unused.
	`CREATE TABLE retired_refresh_tokens (
		hash TEXT PRIMARY KEY,
		session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
		retired_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX retired_refresh_tokens_session ON retired_refresh_tokens (session_id, retired_at);
	INSERT OR IGNORE INTO retired_refresh_tokens (hash, session_id, retired_at)
		SELECT previous_refresh_hash, id, rotated_at FROM sessions WHERE previous_refresh_hash IS NOT NULL AND rotated_at IS NOT NULL;
	DROP INDEX sessions_previous_refresh;`,
	// 5: a count of each account's relation writes, bumped by every one, so that each commits a write
	// whether or not its handle exists (an fsync takes milliseconds: a write only for a real account would tell).
	`ALTER TABLE users ADD COLUMN relation_writes INTEGER NOT NULL DEFAULT 0;`,
	// 6: end-to-end encryption device identities (docs/e2ee.md): a device's public key, bound to the login
	// session that published it (one device per session), deleted with that session's revocation.
	`CREATE TABLE device_keys (
		user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		device_id TEXT NOT NULL,
		session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
		public_key TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (user_id, device_id)
	) WITHOUT ROWID;
	CREATE UNIQUE INDEX device_keys_session ON device_keys (session_id);`,
	// 7: spam reports, one row per (reporter, reported account): a repeat report moves `at`. Counted per
	// reported account over a recent window, hence the index.
	`CREATE TABLE reports (
		reporter_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		reported_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		at INTEGER NOT NULL,
		PRIMARY KEY (reporter_id, reported_id)
	) WITHOUT ROWID;
	CREATE INDEX reports_reported ON reports (reported_id, at);`,
	// 8: call links (a link to a group call an account made; docs/http-api.md): the id is the random part of
	// the link's path. A link unused (`last_used_at`) for links.unusedDays is expired. The end-to-end
	// secret of the link's call lives only in the link's fragment, never here. Listed per owner, hence the index.
	`CREATE TABLE call_links (
		id TEXT PRIMARY KEY,
		owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		admit TEXT NOT NULL CHECK (admit IN ('anyone', 'owner')),
		title TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX call_links_owner ON call_links (owner_id, created_at);`,
	// 9: the webhook events a node has yet to deliver (src/webhooks): a queue per (node, URL), in `seq`
	// order; a row goes once its receiver took it. Rows are the node's, not an account's.
	`CREATE TABLE webhook_queue (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		node_id TEXT NOT NULL,
		url TEXT NOT NULL,
		event_id TEXT NOT NULL,
		body TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX webhook_queue_next ON webhook_queue (node_id, url, seq);`,
];

/** Runs the migrations the database has not run yet. */
export function migrate(db: Database.Database): void {
	const current = db.pragma('user_version', { simple: true }) as number;
	if (current > MIGRATIONS.length) {
		throw new Error(`the database is at schema version ${current}, newer than this node's ${MIGRATIONS.length}: upgrade the node`);
	}
	for (let version = current; version < MIGRATIONS.length; version++) {
		db.transaction(() => {
			db.exec(MIGRATIONS[version]!);
			db.pragma(`user_version = ${version + 1}`);
		})();
	}
}
