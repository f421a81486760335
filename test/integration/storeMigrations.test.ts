import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SqliteStore } from '../../src/store';

// Migrations on a real SQLite file: a database made by an older node is
// brought up to date with its data kept; one made by a newer node is refused.
describe('store migrations', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-migrations-'));
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	/** A database at schema `version`, as a node of that version left it. */
	function databaseAt(file: string, version: number, fill: (db: Database.Database) => void): void {
		const db = new Database(file);
		try {
			for (const migration of MIGRATIONS.slice(0, version)) {
				db.exec(migration);
			}
			db.pragma(`user_version = ${version}`);
			fill(db);
		} finally {
			db.close();
		}
	}

	test('version 3 to the latest: the refresh token a session\'s latest rotation replaced is still known as retired', async () => {
		const file = path.join(dir, 'v3.db');
		const rotatedAt = Date.now() - 60_000;
		databaseAt(file, 3, (db) => {
			db.prepare(`INSERT INTO users (id, handle, display_name, password_hash, settings, created_at) VALUES ('u1', 'ada', 'Ada', 'x', '{}', 0)`).run();
			db.prepare(`INSERT INTO sessions (id, user_id, refresh_hash, expires_at, previous_refresh_hash, rotated_at)
				VALUES ('s1', 'u1', 'current', ?, 'previous', ?)`).run(Date.now() + 86_400_000, rotatedAt);
		});
		const store = SqliteStore.open(file);
		try {
			expect(await store.sessionByRetiredRefreshHash('previous')).toMatchObject({ id: 's1', userId: 'u1', retiredAt: rotatedAt, latest: true });
			expect(await store.sessionByRetiredRefreshHash('current')).toBeUndefined();
			// A rotation retires the current one too; the older one is no longer the latest.
			expect(await store.rotateSession('s1', 'current', 'next', Date.now() + 86_400_000)).toBe(true);
			expect(await store.sessionByRetiredRefreshHash('current')).toMatchObject({ id: 's1', latest: true });
			expect(await store.sessionByRetiredRefreshHash('previous')).toMatchObject({ id: 's1', latest: false });
		} finally {
			await store.close();
		}
		const db = new Database(file, { readonly: true });
		expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
		db.close();
	});

	test('version 4 to the latest: accounts and relations are kept, and every relation write is counted from 0', async () => {
		const file = path.join(dir, 'v4.db');
		databaseAt(file, 4, (db) => {
			for (const [id, handle] of [['u1', 'ada'], ['u2', 'bob']]) {
				db.prepare(`INSERT INTO users (id, handle, display_name, password_hash, settings, created_at) VALUES (?, ?, ?, 'x', '{"discoverable":true}', 0)`).run(id, handle, handle);
			}
			db.prepare(`INSERT INTO relations (kind, owner_id, target_id, created_at) VALUES ('contact', 'u1', 'u2', 0)`).run();
		});
		const store = SqliteStore.open(file);
		try {
			expect(await store.listRelations('contact', 'u1')).toEqual([{ handle: 'bob', displayName: 'bob', verified: false }]);
			expect(await store.setRelation('follow', 'u1', 'bob', true)).toBe('u2');
			expect(await store.setRelation('follow', 'u1', 'nobody', true)).toBeUndefined();
			expect(await store.listRelations('follow', 'u1')).toEqual([{ handle: 'bob', displayName: 'bob', verified: false }]);
		} finally {
			await store.close();
		}
		const db = new Database(file, { readonly: true });
		expect(db.prepare('SELECT id, relation_writes FROM users ORDER BY id').all()).toEqual([{ id: 'u1', relation_writes: 2 }, { id: 'u2', relation_writes: 0 }]);
		expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
		db.close();
	});

	test('retired tokens are kept for one refresh lifetime', async () => {
		const store = SqliteStore.open(path.join(dir, 'prune.db'));
		try {
			const db = new Database(path.join(dir, 'prune.db'));
			db.prepare(`INSERT INTO users (id, handle, display_name, password_hash, settings, created_at) VALUES ('u1', 'ada', 'Ada', 'x', '{}', 0)`).run();
			db.close();
			await store.createSession({ id: 's1', userId: 'u1', refreshHash: 'r0', expiresAt: Date.now() + 1000 });
			expect(await store.rotateSession('s1', 'r0', 'r1', Date.now() + 1000)).toBe(true);
			expect(await store.sessionByRetiredRefreshHash('r0')).toBeDefined();
			// A lifetime of 1 s: by the next rotation two seconds on, r0 would have expired anyway.
			const db2 = new Database(path.join(dir, 'prune.db'));
			db2.prepare('UPDATE retired_refresh_tokens SET retired_at = retired_at - 2000').run();
			db2.close();
			expect(await store.rotateSession('s1', 'r1', 'r2', Date.now() + 1000)).toBe(true);
			expect(await store.sessionByRetiredRefreshHash('r0')).toBeUndefined();
			expect(await store.sessionByRetiredRefreshHash('r1')).toBeDefined();
		} finally {
			await store.close();
		}
	});

	test('a database of a newer node is refused, untouched', () => {
		const file = path.join(dir, 'newer.db');
		databaseAt(file, MIGRATIONS.length, (db) => db.pragma(`user_version = ${MIGRATIONS.length + 1}`));
		expect(() => SqliteStore.open(file)).toThrow(`the database is at schema version ${MIGRATIONS.length + 1}, newer than this node's ${MIGRATIONS.length}: upgrade the node`);
		const db = new Database(file, { readonly: true });
		expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
		db.close();
	});
});
