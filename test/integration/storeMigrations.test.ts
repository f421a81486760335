import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS, POSTGRES_MIGRATIONS, PostgresStore, type Store } from '../../src/store';
import { SqliteStore } from '../../src/store';
import { testLogger } from '../helpers/logger';
import { freshDatabase } from '../helpers/postgres';

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

// PostgreSQL: several nodes of a fleet start at once on an empty database.
describe('PostgreSQL store migrations', () => {
	const { logger } = testLogger('error');
	const options = (url: string) => ({ url, poolSize: 2, connectTimeoutMs: 5000, queryTimeoutMs: 10_000, startupTimeoutMs: 10_000 });
	const applied = async (url: string) => {
		const client = new pg.Client({ connectionString: url });
		await client.connect();
		try {
			return (await client.query('SELECT version FROM switchyard_migrations ORDER BY version')).rows.map((r) => r.version as number);
		} finally {
			await client.end();
		}
	};

	test('six nodes starting at once: each migration runs once, under the advisory lock, and every node opens', async () => {
		const database = await freshDatabase();
		const stores: Store[] = [];
		try {
			stores.push(...await Promise.all(Array.from({ length: 6 }, () => PostgresStore.open(options(database.url), logger))));
			expect(await applied(database.url)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
			// Every node sees the others' writes: one shared store.
			await stores[0]!.createUser({ handle: 'shared_ada', displayName: 'Ada', passwordHash: 'x' });
			expect(await Promise.all(stores.map(async (s) => (await s.userByHandle('shared_ada'))?.displayName))).toEqual(Array(6).fill('Ada'));
		} finally {
			await Promise.all(stores.map((s) => s.close()));
			await database.drop();
		}
	});

	test('a database of a newer node is refused, untouched', async () => {
		const database = await freshDatabase();
		try {
			await (await PostgresStore.open(options(database.url), logger)).close();
			const newer = POSTGRES_MIGRATIONS.length + 1;
			const client = new pg.Client({ connectionString: database.url });
			await client.connect();
			await client.query('INSERT INTO switchyard_migrations (version, applied_at) VALUES ($1, 0)', [newer]);
			await client.end();
			await expect(PostgresStore.open(options(database.url), logger)).rejects.toThrow(
				`the database is at schema version ${newer}, newer than this node's ${POSTGRES_MIGRATIONS.length}: upgrade the node`);
			expect(await applied(database.url)).toEqual([...POSTGRES_MIGRATIONS.map((_, i) => i + 1), newer]);
		} finally {
			await database.drop();
		}
	});
});
