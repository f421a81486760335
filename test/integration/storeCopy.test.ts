import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DEFAULT_SETTINGS, MIGRATIONS, PostgresStore, SqliteStore, type CallLink, type HistoryCursor, type RelationKind, type Store, type User } from '../../src/store';
import { PROJECT_DIR } from '../helpers/child';
import { testLogger } from '../helpers/logger';
import { freshDatabase } from '../helpers/postgres';

/**
 * `npm run store:copy -- FILE` (src/storeCopy.ts) on a real PostgreSQL: a
 * SQLite store filled through its API, copied by the CLI as a child process,
 * must answer every Store call on PostgreSQL as it did on SQLite, history
 * cursors included.
 */

const { logger } = testLogger('error');
const TABLES = ['users', 'relations', 'sessions', 'retired_refresh_tokens', 'call_history', 'device_keys', 'reports', 'call_links'] as const;
const KINDS: RelationKind[] = ['contact', 'follow', 'block'];
const T0 = 1_700_000_000_000;
const LATER = Date.now() + 30 * 86_400_000;

const databases: { drop(): Promise<void> }[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-storecopy-'));
afterAll(async () => {
	await Promise.all(databases.map((database) => database.drop()));
	fs.rmSync(dir, { recursive: true, force: true });
});

async function emptyDatabase(): Promise<string> {
	const database = await freshDatabase();
	databases.push(database);
	return database.url;
}

/** Runs the CLI; nothing it prints may hold the password of `url`. */
function storeCopy(args: string[], url?: string): SpawnSyncReturns<string> {
	const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'src', 'storeCopy.ts'), ...args], {
		cwd: PROJECT_DIR, encoding: 'utf8', timeout: 60_000,
		env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(url === undefined ? {} : { SWITCHYARD_STORE_URL: url }) },
	});
	const password = url === undefined ? '' : new URL(url).password;
	if (password) {
		expect(`${result.stdout}${result.stderr}`).not.toContain(password);
	}
	return result;
}

function openPostgres(url: string): Promise<PostgresStore> {
	return PostgresStore.open({ url, poolSize: 2, connectTimeoutMs: 5000, queryTimeoutMs: 10_000, startupTimeoutMs: 10_000 }, logger);
}

/** Every row of every table, in a stable order: to tell that a database did not change. */
async function dumpPostgres(url: string): Promise<unknown> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const dump: Record<string, unknown> = {};
		for (const table of [...TABLES, 'switchyard_migrations']) {
			dump[table] = (await client.query(`SELECT * FROM ${table}`)).rows.map((row) => JSON.stringify(row)).sort();
		}
		dump.seq = (await client.query(`SELECT pg_sequence_last_value(pg_get_serial_sequence('call_history', 'seq')::regclass) AS last`)).rows;
		return dump;
	} finally {
		await client.end();
	}
}

function dumpSqlite(file: string): unknown {
	const db = new Database(file, { readonly: true, fileMustExist: true });
	try {
		const dump: Record<string, unknown> = { version: db.pragma('user_version', { simple: true }) };
		for (const table of TABLES) {
			const rowid = table === 'call_history' ? 'rowid AS row_id, ' : '';
			dump[table] = db.prepare(`SELECT ${rowid}* FROM ${table}`).all().map((row) => JSON.stringify(row)).sort();
		}
		return dump;
	} finally {
		db.close();
	}
}

type Fixture = { users: User[]; sessionIds: string[]; refreshHashes: string[] };

/** Accounts, relations, sessions and calls of every kind, written through the Store API. */
async function fill(store: Store): Promise<Fixture> {
	const signUp = (handle: string, displayName: string) => store.createUser({ handle, displayName, passwordHash: `scrypt$${handle}` });
	const gone = await signUp('gone', 'Gone Soon');
	const [ada, emile, umit, grace, hal, linus] = [
		await signUp('ada', 'Ada Lovelace'), await signUp('emile_z', 'Émile Zola'), await signUp('umit', 'Ümit Öztürk'),
		await signUp('grace', 'Grace Hopper'), await signUp('hal', 'Hidden Hal'), await signUp('linus', 'Linus'),
	] as [User, User, User, User, User, User];
	await store.setPasswordHash(ada.id, 'scrypt$ada-changed');
	await store.updateUser(grace.id, { verified: true, premium: true });
	await store.updateUser(linus.id, { premium: true, displayName: 'Linus T.' });
	const allowFrom = { ...DEFAULT_SETTINGS.calls.allowFrom, everyone: true };
	await store.updateUser(ada.id, { settings: { ...DEFAULT_SETTINGS, calls: { ...DEFAULT_SETTINGS.calls, allowFrom } } });
	await store.updateUser(hal.id, { settings: { ...DEFAULT_SETTINGS, discoverable: false } });

	const relations: [RelationKind, User, string, boolean][] = [
		['contact', ada, 'grace', true], ['contact', ada, 'emile_z', true], ['contact', ada, 'hal', true], ['contact', ada, 'nobody_here', true],
		['follow', ada, 'grace', true], ['follow', ada, 'umit', true], ['follow', ada, 'linus', true], ['follow', ada, 'linus', false],
		['contact', hal, 'ada', true], ['contact', umit, 'hal', true], ['follow', emile, 'ada', true],
		['block', grace, 'linus', true], ['block', linus, 'grace', true], ['contact', gone, 'ada', true],
	];
	for (const [kind, owner, target, on] of relations) {
		await store.setRelation(kind, owner.id, target, on);
	}

	await store.createSession({ id: 's-ada', userId: ada.id, refreshHash: 'r-ada', expiresAt: LATER });
	await store.createSession({ id: 's-ada-rotated', userId: ada.id, refreshHash: 'r-rot-1', expiresAt: LATER });
	await store.rotateSession('s-ada-rotated', 'r-rot-1', 'r-rot-2', LATER + 1);
	await store.rotateSession('s-ada-rotated', 'r-rot-2', 'r-rot-3', LATER + 2);
	await store.createSession({ id: 's-grace', userId: grace.id, refreshHash: 'r-grace', expiresAt: LATER });
	await store.createSession({ id: 's-grace-other', userId: grace.id, refreshHash: 'r-grace-other', expiresAt: LATER });
	await store.putDeviceKey({ userId: grace.id, deviceId: 'grace-desk-000001', sessionId: 's-grace', publicKey: 'BGraceDesk' });
	await store.putDeviceKey({ userId: grace.id, deviceId: 'grace-other-00001', sessionId: 's-grace-other', publicKey: 'BGraceOther' });
	await store.revokeSessions(grace.id, 's-grace');
	await store.createSession({ id: 's-linus', userId: linus.id, refreshHash: 'r-linus', expiresAt: LATER });
	await store.putDeviceKey({ userId: linus.id, deviceId: 'linus-laptop-0001', sessionId: 's-linus', publicKey: 'BLinusKey' });
	await store.revokeSession('s-linus');
	// Device keys: two of ada's sessions, one replaced; grace's excepted session kept its key (above).
	await store.putDeviceKey({ userId: ada.id, deviceId: 'ada-laptop-000001', sessionId: 's-ada', publicKey: 'BAdaLaptopOld' });
	await store.putDeviceKey({ userId: ada.id, deviceId: 'ada-laptop-000001', sessionId: 's-ada', publicKey: 'BAdaLaptop' });
	await store.putDeviceKey({ userId: ada.id, deviceId: 'ada-phone-0000001', sessionId: 's-ada-rotated', publicKey: 'BAdaPhone' });

	const call = (userId: string, callId: string, startedAt: number, other: User, direction: 'outgoing' | 'incoming' = 'outgoing') => store.addCallRecord({
		callId, userId, otherHandle: other.handle, otherDisplayName: other.displayName, direction,
		media: direction === 'outgoing' ? 'audio' : 'video', outcome: direction === 'outgoing' ? 'answered' : 'missed', startedAt, durationMs: 1234,
	});
	// NOTE: the rows of an account deleted later leave gaps in SQLite's rowids: a copy that numbered
	// the rows anew would give other cursors.
	await call(gone.id, 'g-1', T0, ada);
	for (const [i, startedAt] of [T0 + 1000, T0 + 5000, T0 + 5000, T0 + 2000, T0 + 5000, T0 + 5000].entries()) {
		await call(gone.id, `g-${i}-a`, startedAt, ada);
		await call(ada.id, `a-${i}`, startedAt, i % 2 ? grace : emile, i % 2 ? 'incoming' : 'outgoing');
	}
	// More rows than one batch holds, eight to a millisecond.
	for (let i = 0; i < 1203; i++) {
		await call(linus.id, `l-${i}`, T0 + (i >> 3), umit, i % 3 ? 'incoming' : 'outgoing');
		if (i % 100 === 0) {
			await call(gone.id, `g-l-${i}`, T0, linus);
		}
	}
	await store.createSession({ id: 's-gone', userId: gone.id, refreshHash: 'r-gone', expiresAt: LATER });
	await store.putDeviceKey({ userId: gone.id, deviceId: 'gone-device-00001', sessionId: 's-gone', publicKey: 'BGone' });
	// Reports: ada's repeat moves its time; those by and about the account deleted below go with it.
	await store.addReport({ reporterId: ada.id, reportedId: linus.id, at: T0 });
	await store.addReport({ reporterId: grace.id, reportedId: linus.id, at: T0 + 10 });
	await store.addReport({ reporterId: ada.id, reportedId: linus.id, at: T0 + 20 });
	await store.addReport({ reporterId: umit.id, reportedId: ada.id, at: T0 + 5 });
	await store.addReport({ reporterId: gone.id, reportedId: ada.id, at: T0 + 30 });
	await store.addReport({ reporterId: ada.id, reportedId: gone.id, at: T0 + 30 });
	// Call links: two of ada's made in the same millisecond (listed by id), one touched; the deleted account's goes with it.
	await store.createLink({ id: 'link-ada-b-0000000000000', ownerId: ada.id, admit: 'anyone', title: 'Standup', at: T0 });
	await store.createLink({ id: 'link-ada-A-0000000000000', ownerId: ada.id, admit: 'owner', title: 'Émile & Ada', at: T0 });
	await store.touchLink('link-ada-b-0000000000000', T0 + 60_000);
	await store.createLink({ id: 'link-grace-0000000000000', ownerId: grace.id, admit: 'owner', title: '', at: T0 + 1 });
	await store.createLink({ id: 'link-gone-00000000000000', ownerId: gone.id, admit: 'anyone', title: 'gone', at: T0 });
	await store.deleteUser(gone.id);
	return {
		users: [ada, emile, umit, grace, hal, linus],
		sessionIds: ['s-ada', 's-ada-rotated', 's-grace', 's-grace-other', 's-linus', 's-none'],
		refreshHashes: ['r-ada', 'r-rot-1', 'r-rot-2', 'r-rot-3', 'r-grace', 'r-grace-other', 'r-linus', 'r-none'],
	};
}

/** The `before` cursors that page through an account's history on `store`, newest first. */
async function historyCursors(store: Store, userId: string, limit: number): Promise<(HistoryCursor | undefined)[]> {
	const cursors: (HistoryCursor | undefined)[] = [undefined];
	for (;;) {
		const page = await store.callHistory(userId, { before: cursors.at(-1), limit });
		if (page.length < limit) {
			return cursors;
		}
		cursors.push(page.at(-1)!.cursor);
	}
}

/** What `store` answers to every read of the Store API on the fixture, keyed by the call. */
async function answers(store: Store, { users, sessionIds, refreshHashes }: Fixture, cursors: Map<string, (HistoryCursor | undefined)[]>): Promise<Record<string, unknown>> {
	const result: Record<string, unknown> = {};
	for (const user of users) {
		result[`userByHandle ${user.handle}`] = await store.userByHandle(user.handle.toUpperCase());
		result[`userById ${user.handle}`] = await store.userById(user.id);
		result[`passwordHash ${user.handle}`] = await store.passwordHash(user.id);
		for (const kind of KINDS) {
			result[`listRelations ${kind} ${user.handle}`] = await store.listRelations(kind, user.id);
		}
		for (const other of users) {
			result[`relationsBetween ${user.handle} ${other.handle}`] = await store.relationsBetween(user.id, other.id);
		}
		result[`deviceKeys ${user.handle}`] = await store.deviceKeys(user.id);
		result[`deviceKey ${user.handle} ada-laptop-000001`] = await store.deviceKey(user.id, 'ada-laptop-000001');
		result[`reportsAgainst ${user.handle}`] = [await store.reportsAgainst(user.id, 0), await store.reportsAgainst(user.id, T0 + 15)];
		for (const other of users) {
			result[`rangSince ${user.handle} ${other.handle}`] = [await store.rangSince(user.id, other.handle, 0), await store.rangSince(user.id, other.handle, T0 + 10_000)];
		}
		result[`links ${user.handle}`] = await store.links(user.id);
		result[`callHistory ${user.handle}`] = await Promise.all((cursors.get(user.id) ?? []).map((before) => store.callHistory(user.id, { before, limit: 7 })));
	}
	for (const prefix of ['', 'a', 'é', 'émi', 'ÉMI', 'Émile Z', 'ü', 'ümit ö', 'h', 'l', 'e', '_', 'gr']) {
		result[`searchUsers ${prefix}`] = await store.searchUsers({ prefix, limit: 10 });
		result[`searchUsers ${prefix} after emile_z`] = await store.searchUsers({ prefix, after: 'emile_z', limit: 2 });
	}
	result['reportedAccounts'] = await store.reportedAccounts(0, 10);
	for (const id of ['link-ada-b-0000000000000', 'link-grace-0000000000000', 'link-gone-00000000000000']) {
		result[`link ${id}`] = await store.link(id);
	}
	result['reportedAccounts since T0 + 15, 1'] = await store.reportedAccounts(T0 + 15, 1);
	for (const id of sessionIds) {
		result[`session ${id}`] = await store.session(id);
	}
	for (const hash of refreshHashes) {
		result[`sessionByRefreshHash ${hash}`] = await store.sessionByRefreshHash(hash);
		result[`sessionByRetiredRefreshHash ${hash}`] = await store.sessionByRetiredRefreshHash(hash);
	}
	return result;
}

describe('npm run store:copy: a SQLite store into an empty PostgreSQL database', () => {
	const file = path.join(dir, 'switchyard.db');
	let sqlite: SqliteStore;
	let fixture: Fixture;
	let url: string;
	let copy: SpawnSyncReturns<string>;
	let before: unknown;
	beforeAll(async () => {
		sqlite = SqliteStore.open(file);
		fixture = await fill(sqlite);
		url = await emptyDatabase();
		before = dumpSqlite(file);
		copy = storeCopy([file], url);
	}, 120_000);
	afterAll(() => sqlite.close());

	test('prints the rows copied per table, naming the database without its password; the SQLite file is only read', () => {
		const db = new Database(file, { readonly: true });
		const counts = TABLES.map((table) => `  ${table}: ${(db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n}\n`);
		db.close();
		const { username, host, pathname } = new URL(url);
		expect([copy.status, copy.stderr, copy.stdout]).toEqual([0, '', `copied ${file} to ${username}@${host}${pathname}\n${counts.join('')}`]);
		expect(copy.stdout).toMatch(/users: 6\n.*call_history: 1209\n {2}device_keys: 3\n {2}reports: 3\n {2}call_links: 3\n$/s);
		expect(dumpSqlite(file)).toEqual(before);
	});

	test('every read of the Store API answers on PostgreSQL as on SQLite, history cursors from SQLite included', async () => {
		const cursors = new Map<string, (HistoryCursor | undefined)[]>();
		for (const user of fixture.users) {
			cursors.set(user.id, await historyCursors(sqlite, user.id, 7));
		}
		const expected = await answers(sqlite, fixture, cursors);
		// The fixture is what it means to be: not a comparison of empty answers.
		expect(expected['searchUsers émi']).toEqual([{ handle: 'emile_z', displayName: 'Émile Zola', verified: false }]);
		expect(expected['searchUsers h']).toEqual([]);
		expect(expected['listRelations contact ada']).toHaveLength(3);
		expect(expected['sessionByRetiredRefreshHash r-rot-2']).toMatchObject({ id: 's-ada-rotated', latest: true });
		expect(expected['sessionByRetiredRefreshHash r-rot-1']).toMatchObject({ id: 's-ada-rotated', latest: false });
		expect(expected['session s-grace-other']).toMatchObject({ revoked: true });
		expect(expected['deviceKeys ada']).toEqual([
			{ deviceId: 'ada-laptop-000001', sessionId: 's-ada', publicKey: 'BAdaLaptop', createdAt: expect.any(Number) },
			{ deviceId: 'ada-phone-0000001', sessionId: 's-ada-rotated', publicKey: 'BAdaPhone', createdAt: expect.any(Number) },
		]);
		expect(expected['deviceKeys linus']).toEqual([]);
		expect(expected['deviceKeys grace']).toEqual([{ deviceId: 'grace-desk-000001', sessionId: 's-grace', publicKey: 'BGraceDesk', createdAt: expect.any(Number) }]);
		expect(expected['reportedAccounts']).toEqual([{ handle: 'linus', reports: 2, lastReportAt: T0 + 20 }, { handle: 'ada', reports: 1, lastReportAt: T0 + 5 }]);
		expect(expected['reportsAgainst linus']).toEqual([2, 1]);
		expect((expected['links ada'] as CallLink[]).map((l) => [l.id, l.lastUsedAt])).toEqual([['link-ada-A-0000000000000', T0], ['link-ada-b-0000000000000', T0 + 60_000]]);
		expect(expected['link link-gone-00000000000000']).toBeUndefined();
		expect(expected['rangSince ada grace']).toEqual([true, false]);
		expect(expected['rangSince ada emile_z']).toEqual([false, false]);
		expect(expected['rangSince linus umit']).toEqual([true, false]);
		expect(cursors.get(fixture.users[5]!.id)).toHaveLength(172);

		const postgres = await openPostgres(url);
		try {
			expect(await answers(postgres, fixture, cursors)).toEqual(expected);
		} finally {
			await postgres.close();
		}
	}, 60_000);

	test('relation_writes and the folded display names are copied too', async () => {
		const db = new Database(file, { readonly: true });
		const rows = db.prepare('SELECT handle, display_name, relation_writes FROM users ORDER BY handle').all() as { handle: string; display_name: string; relation_writes: number }[];
		db.close();
		const client = new pg.Client({ connectionString: url });
		await client.connect();
		const copied = (await client.query('SELECT handle, display_name_folded, relation_writes::int FROM users ORDER BY handle')).rows;
		await client.end();
		expect(copied).toEqual(rows.map((row) => ({ handle: row.handle, display_name_folded: row.display_name.toLowerCase(), relation_writes: row.relation_writes })));
		expect(rows.find((row) => row.handle === 'ada')?.relation_writes).toBe(8);
	});

	test('a call recorded after the copy sorts first, even within the millisecond of the newest copied ones', async () => {
		const ada = fixture.users[0]!;
		const postgres = await openPostgres(url);
		try {
			const [newest] = await postgres.callHistory(ada.id, { limit: 1 });
			await postgres.addCallRecord({ ...newest!, callId: 'after-copy', cursor: undefined });
			const [first, second] = await postgres.callHistory(ada.id, { limit: 2 });
			expect([first?.callId, second?.callId, first?.startedAt]).toEqual(['after-copy', newest!.callId, T0 + 5000]);
			expect(first!.cursor!.seq).toBeGreaterThan(newest!.cursor!.seq);
		} finally {
			await postgres.close();
		}
	});

	test('a second copy into the now non-empty database is refused and changes nothing', async () => {
		const target = await dumpPostgres(url);
		const again = storeCopy([file], url);
		expect(again.status).toBe(1);
		expect(again.stdout).toBe('');
		expect(again.stderr).toMatch(/^switchyard store:copy: cannot copy .* already holds 6 accounts: a copy goes into an empty database only\n$/);
		expect(await dumpPostgres(url)).toEqual(target);
	});
});

describe('npm run store:copy: what it refuses', () => {
	test('a missing SQLite file: not created, the database not touched', async () => {
		const url = await emptyDatabase();
		const missing = path.join(dir, 'nowhere', 'missing.db');
		const result = storeCopy([missing], url);
		expect([result.status, result.stdout, result.stderr]).toEqual([1, '', `switchyard store:copy: no SQLite store at ${missing}\n`]);
		expect(fs.existsSync(path.dirname(missing))).toBe(false);
		const client = new pg.Client({ connectionString: url });
		await client.connect();
		const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
		await client.end();
		expect(rows).toEqual([{ n: 0 }]);
	});

	test('a file that is not a SQLite database', async () => {
		const notDb = path.join(dir, 'notes.txt');
		fs.writeFileSync(notDb, 'not a database, just some text that is long enough to fill a header page.'.repeat(20));
		const result = storeCopy([notDb], await emptyDatabase());
		expect(result.status).toBe(1);
		expect(result.stderr).toBe(`switchyard store:copy: cannot open the SQLite store at ${notDb}: file is not a database\n`);
	});

	test('a copy that fails midway writes nothing: one transaction', async () => {
		const file = path.join(dir, 'orphan.db');
		const store = SqliteStore.open(file);
		const kept = await store.createUser({ handle: 'kept', displayName: 'Kept', passwordHash: 'x' });
		await store.setRelation('follow', kept.id, 'kept', true);
		await store.close();
		// A history row whose account is gone, as only a file written with foreign keys off can hold:
		// PostgreSQL refuses it after the users and relations went in.
		const db = new Database(file);
		db.pragma('foreign_keys = OFF');
		db.prepare(`INSERT INTO call_history (call_id, user_id, other_handle, other_display_name, direction, media, outcome, started_at)
			VALUES ('c', 'no-such-user', 'kept', 'Kept', 'incoming', 'audio', 'missed', 1)`).run();
		db.close();

		const url = await emptyDatabase();
		const result = storeCopy([file], url);
		expect(result.status).toBe(1);
		expect(result.stderr).toMatch(/^switchyard store:copy: cannot copy .*: insert or update on table "call_history" violates foreign key constraint/);
		const dump = await dumpPostgres(url) as Record<string, unknown[]>;
		expect(TABLES.map((table) => dump[table])).toEqual(TABLES.map(() => []));
	});

	test('no store.url, a wrong password, no file argument', async () => {
		const file = path.join(dir, 'any.db');
		await SqliteStore.open(file).close();
		const noUrl = storeCopy([file]);
		expect([noUrl.status, noUrl.stderr]).toEqual([1, expect.stringMatching(/^switchyard store:copy: store\.url is not set: /)]);

		const wrong = new URL(await emptyDatabase());
		wrong.password = 'not-the-password-7f3a';
		const denied = storeCopy([file], wrong.toString());
		expect(denied.status).toBe(1);
		expect(denied.stderr).toMatch(/^switchyard store:copy: cannot copy .* to the PostgreSQL store at switchyard@127\.0\.0\.1:\d+\/switchyard_test_\w+: password authentication failed/);

		const usage = storeCopy([], wrong.toString());
		expect([usage.status, usage.stderr]).toEqual([1, 'switchyard store:copy: usage: npm run store:copy -- SQLITE_FILE\n']);
	});
});

describe('npm run store:copy: an older SQLite schema', () => {
	test('is migrated first: a session rotated before retired_refresh_tokens existed keeps its retired token', async () => {
		const file = path.join(dir, 'old.db');
		const db = new Database(file);
		for (const migration of MIGRATIONS.slice(0, 3)) {
			db.exec(migration);
		}
		db.pragma('user_version = 3');
		db.prepare(`INSERT INTO users (id, handle, display_name, password_hash, verified, premium, settings, created_at)
			VALUES ('u-old', 'oldtimer', 'Ōld Timer', 'scrypt$old', 1, 0, ?, ?)`).run(JSON.stringify(DEFAULT_SETTINGS), T0);
		db.prepare(`INSERT INTO sessions (id, user_id, refresh_hash, previous_refresh_hash, rotated_at, expires_at)
			VALUES ('s-old', 'u-old', 'r-new', 'r-old', ?, ?)`).run(T0 + 1, LATER);
		db.close();

		const url = await emptyDatabase();
		const result = storeCopy([file], url);
		expect([result.status, result.stderr]).toEqual([0, '']);
		expect(result.stdout).toContain('  retired_refresh_tokens: 1\n');
		expect(dumpSqlite(file)).toMatchObject({ version: MIGRATIONS.length });
		const postgres = await openPostgres(url);
		try {
			expect(await postgres.userByHandle('oldtimer')).toMatchObject({ id: 'u-old', displayName: 'Ōld Timer', verified: true, premium: false });
			expect(await postgres.searchUsers({ prefix: 'ōld', limit: 5 })).toEqual([{ handle: 'oldtimer', displayName: 'Ōld Timer', verified: true }]);
			expect(await postgres.sessionByRetiredRefreshHash('r-old')).toEqual({ id: 's-old', userId: 'u-old', expiresAt: LATER, revoked: false, retiredAt: T0 + 1, latest: true });
		} finally {
			await postgres.close();
		}
	});
});
