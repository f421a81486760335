import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AppError } from '../../src/errors';
import { PostgresStore, SqliteStore, type CallRecord, type Store, type UserSettings } from '../../src/store';
import { PROJECT_DIR } from '../helpers/child';
import { testLogger } from '../helpers/logger';
import { freshDatabase } from '../helpers/postgres';

/**
 * The contract of `Store` (src/store/types.ts), run against both stores: the
 * embedded SQLite file and PostgreSQL (a real server, test/helpers/postgres.ts).
 * Whatever a node does through the interface must answer the same on either,
 * errors included. The kill -9 durability half of the contract is
 * test/integration/accountsDurability.test.ts, run on both stores as well.
 */

type Opened = {
	store: Store;
	/** Where a second process finds the same database: a file or a URL. */
	location: string;
	/** Holds a lock that blocks every write (and, on PostgreSQL, every read of users) until `release`. */
	lockUsers(): Promise<{ release(): Promise<void> }>;
	/** The same database opened again with a short lock wait, for the lock test. */
	impatient(): Promise<Store>;
	close(): Promise<void>;
};

const { logger } = testLogger('error');
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

async function openSqlite(): Promise<Opened> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-contract-'));
	tempDirs.push(dir);
	const file = path.join(dir, 'switchyard.db');
	const store = SqliteStore.open(file);
	const others: Store[] = [];
	return {
		store,
		location: file,
		async lockUsers() {
			const db = new Database(file);
			db.exec('BEGIN EXCLUSIVE');
			return { async release() { db.exec('COMMIT'); db.close(); } };
		},
		async impatient() {
			const other = SqliteStore.open(file, { busyTimeoutMs: 100 });
			others.push(other);
			return other;
		},
		async close() {
			await Promise.all([store, ...others].map((s) => s.close()));
		},
	};
}

async function openPostgres(): Promise<Opened> {
	// NOTE: collated as many production databases are (ICU, en-US: "_" and case are ignored at the first
	// level, so "a_b" sorts after "aa"), not in the test cluster's byte order: the store must not follow it.
	const database = await freshDatabase({ icuLocale: 'en-US' });
	const options = { url: database.url, poolSize: 4, connectTimeoutMs: 5000, queryTimeoutMs: 10_000, startupTimeoutMs: 10_000 };
	const store = await PostgresStore.open(options, logger);
	const others: Store[] = [];
	return {
		store,
		location: database.url,
		async lockUsers() {
			const client = new pg.Client({ connectionString: database.url });
			await client.connect();
			await client.query('BEGIN');
			await client.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
			return { async release() { await client.query('COMMIT'); await client.end(); } };
		},
		async impatient() {
			const other = await PostgresStore.open({ ...options, queryTimeoutMs: 300 }, logger);
			others.push(other);
			return other;
		},
		async close() {
			await Promise.all([store, ...others].map((s) => s.close()));
			await database.drop();
		},
	};
}

/** The AppError code a promise rejects with (or what else it did). */
async function codeOf(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
		return 'resolved';
	} catch (error) {
		return error instanceof AppError ? error.code : `not an AppError: ${(error as Error).message}`;
	}
}

const hidden = (settings: UserSettings): UserSettings => ({ ...settings, discoverable: false });

describe.each([
	['SQLite', openSqlite],
	['PostgreSQL', openPostgres],
])('the %s store', (_name, open) => {
	let opened: Opened;
	let store: Store;
	beforeEach(async () => {
		opened = await open();
		store = opened.store;
	});
	afterEach(() => opened.close());

	const signUp = (handle: string, displayName = handle) => store.createUser({ handle, displayName, passwordHash: `hash-of-${handle}` });

	describe('accounts', () => {
		test('handles are case-insensitive: stored lowercase, found in any case, taken in any case', async () => {
			const ada = await signUp('Ada_L', 'Ada Lovelace');
			expect(ada).toMatchObject({ handle: 'ada_l', displayName: 'Ada Lovelace', verified: false, premium: false });
			expect(ada.settings).toEqual({ discoverable: true, calls: { enabled: true, allowFrom: { contacts: true, following: true, verified: false, everyone: false }, silenceOthers: false } });
			expect((await store.userByHandle('ADA_L'))?.id).toBe(ada.id);
			expect((await store.userByHandle('ada_l'))?.id).toBe(ada.id);
			expect(await store.userById(ada.id)).toEqual(ada);
			expect(await codeOf(signUp('ada_L'))).toBe('conflict');
			expect(await store.userByHandle('nobody')).toBeUndefined();
			expect(await store.userById('no-such-id')).toBeUndefined();
		});

		test('passwords, flags, names and settings are updated as asked, the rest kept', async () => {
			const bob = await signUp('bob');
			expect(await store.passwordHash(bob.id)).toBe('hash-of-bob');
			await store.setPasswordHash(bob.id, 'new-hash');
			expect(await store.passwordHash(bob.id)).toBe('new-hash');
			expect(await store.passwordHash('no-such-id')).toBeUndefined();
			expect(await store.updateUser(bob.id, { verified: true })).toMatchObject({ verified: true, premium: false, displayName: 'bob' });
			expect(await store.updateUser(bob.id, { premium: true, displayName: 'Bob Ørsted' })).toMatchObject({ verified: true, premium: true, displayName: 'Bob Ørsted' });
			const settings = { discoverable: false, calls: { enabled: false, allowFrom: { contacts: false, following: true, verified: true, everyone: false }, silenceOthers: true } };
			expect((await store.updateUser(bob.id, { settings })).settings).toEqual(settings);
			// Settings stored before a setting existed read with its default.
			const { silenceOthers: _, ...older } = settings.calls;
			expect((await store.updateUser(bob.id, { settings: { ...settings, calls: older } as never })).settings).toEqual({ ...settings, calls: { ...older, silenceOthers: false } });
			await store.updateUser(bob.id, { settings });
			expect(await store.userById(bob.id)).toMatchObject({ verified: true, premium: true, displayName: 'Bob Ørsted', settings });
			expect(await codeOf(store.updateUser('no-such-id', { verified: true }))).toBe('not_found');
		});

		test('deleting an account deletes its relations both ways, its sessions and its history', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await store.setRelation('contact', ada.id, 'bob', true);
			await store.setRelation('block', bob.id, 'ada', true);
			await store.createSession({ id: 'bob-session', userId: bob.id, refreshHash: 'bob-refresh', expiresAt: Date.now() + 60_000 });
			await store.addCallRecord(record(bob.id, 'c1', 1000));
			await store.deleteUser(bob.id);
			expect(await store.userById(bob.id)).toBeUndefined();
			expect(await store.listRelations('contact', ada.id)).toEqual([]);
			expect(await store.relationsBetween(ada.id, bob.id)).toEqual({ calleeHasCallerAsContact: false, calleeFollowsCaller: false, calleeBlockedCaller: false, callerBlockedCallee: false });
			expect(await store.session('bob-session')).toBeUndefined();
			expect(await store.callHistory(bob.id, { limit: 10 })).toEqual([]);
			// A write for the deleted account: not_found on both stores, never an internal error.
			expect(await codeOf(store.createSession({ id: 'late', userId: bob.id, refreshHash: 'late', expiresAt: Date.now() + 60_000 }))).toBe('not_found');
			expect(await codeOf(store.addCallRecord(record(bob.id, 'c2', 2000)))).toBe('not_found');
			// The handle is free again.
			expect((await signUp('bob')).id).not.toBe(bob.id);
		});
	});

	describe('directory search', () => {
		test('non-ASCII display names are found by any case of a prefix, the same on both stores', async () => {
			await signUp('emile', 'Émile Zola');
			await signUp('omega', 'Ωmega Point');
			await signUp('strasse', 'STRASSE Straße');
			await signUp('ascii', 'Plain Name');
			const find = async (prefix: string) => (await store.searchUsers({ prefix, limit: 10 })).map((u) => u.handle);
			expect(await find('émi')).toEqual(['emile']);
			expect(await find('ÉMI')).toEqual(['emile']);
			expect(await find('Émile Z')).toEqual(['emile']);
			expect(await find('ωm')).toEqual(['omega']);
			expect(await find('ΩM')).toEqual(['omega']);
			expect(await find('strasse s')).toEqual(['strasse']);
			expect(await find('pla')).toEqual(['ascii']);
			expect(await find('E')).toEqual(['emile']);
			expect(await find('zola')).toEqual([]);
			expect((await store.searchUsers({ prefix: 'émi', limit: 10 }))[0]).toEqual({ handle: 'emile', displayName: 'Émile Zola', verified: false });
		});

		test('% and _ are plain characters; order is by handle byte by byte (digits, then _, then letters); pages follow', async () => {
			for (const handle of ['a_b', 'ab', 'a1', 'a_', 'aa', 'a9z']) {
				await signUp(handle, `Name ${handle}`);
			}
			await signUp('percent', '100% Sure');
			const page = (prefix: string, after?: string, limit = 10) => store.searchUsers({ prefix, after, limit }).then((users) => users.map((u) => u.handle));
			expect(await page('a')).toEqual(['a1', 'a9z', 'a_', 'a_b', 'aa', 'ab']);
			expect(await page('a_')).toEqual(['a_', 'a_b']);
			expect(await page('100%')).toEqual(['percent']);
			expect(await page('100_')).toEqual([]);
			expect(await page('a', undefined, 4)).toEqual(['a1', 'a9z', 'a_', 'a_b']);
			expect(await page('a', 'a_b', 4)).toEqual(['aa', 'ab']);
		});

		test('accounts that are not discoverable are left out', async () => {
			const shy = await signUp('shy_one', 'Shy');
			await signUp('shy_two', 'Shy Too');
			await store.updateUser(shy.id, { settings: hidden(shy.settings) });
			expect((await store.searchUsers({ prefix: 'shy', limit: 10 })).map((u) => u.handle)).toEqual(['shy_two']);
		});
	});

	describe('relations', () => {
		test('set, idempotent, removed; an unknown handle stores nothing and never binds to a later sign-up', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			expect(await store.setRelation('contact', ada.id, 'BOB', true)).toBe(bob.id);
			expect(await store.setRelation('contact', ada.id, 'bob', true)).toBe(bob.id);
			expect(await store.setRelation('follow', ada.id, 'bob', true)).toBe(bob.id);
			expect(await store.listRelations('contact', ada.id)).toEqual([{ handle: 'bob', displayName: 'bob', verified: false }]);
			expect(await store.relationsBetween(bob.id, ada.id)).toEqual({ calleeHasCallerAsContact: true, calleeFollowsCaller: true, calleeBlockedCaller: false, callerBlockedCallee: false });
			expect(await store.setRelation('contact', ada.id, 'bob', false)).toBe(bob.id);
			expect(await store.listRelations('contact', ada.id)).toEqual([]);
			expect(await store.listRelations('follow', ada.id)).toHaveLength(1);

			expect(await store.setRelation('contact', ada.id, 'carol', true)).toBeUndefined();
			expect(await store.setRelation('block', ada.id, 'carol', false)).toBeUndefined();
			const carol = await signUp('carol');
			expect(await store.listRelations('contact', ada.id)).toEqual([]);
			expect(await store.relationsBetween(carol.id, ada.id)).toMatchObject({ calleeHasCallerAsContact: false });
		});

		test('blocks both ways, and hidden targets listed only when they have the owner as a contact or follow it', async () => {
			const [ada, bob, cat] = [await signUp('ada'), await signUp('bob'), await signUp('cat')];
			await store.setRelation('block', ada.id, 'bob', true);
			await store.setRelation('block', bob.id, 'ada', true);
			expect(await store.relationsBetween(bob.id, ada.id)).toEqual({ calleeHasCallerAsContact: false, calleeFollowsCaller: false, calleeBlockedCaller: true, callerBlockedCallee: true });
			await store.setRelation('contact', ada.id, 'cat', true);
			await store.updateUser(cat.id, { settings: hidden(cat.settings) });
			expect(await store.listRelations('contact', ada.id)).toEqual([]);
			await store.setRelation('block', cat.id, 'ada', true);
			expect(await store.listRelations('contact', ada.id)).toEqual([]);
			await store.setRelation('follow', cat.id, 'ada', true);
			expect(await store.listRelations('contact', ada.id)).toEqual([{ handle: 'cat', displayName: 'cat', verified: false }]);
			expect(await store.listRelations('block', ada.id)).toEqual([{ handle: 'bob', displayName: 'bob', verified: false }]);
		});
	});

	describe('login sessions', () => {
		test('create, look up, rotate by compare-and-swap, remember retired tokens, revoke', async () => {
			const ada = await signUp('ada');
			const later = Date.now() + 3_600_000;
			await store.createSession({ id: 's1', userId: ada.id, refreshHash: 'r0', expiresAt: later });
			await store.createSession({ id: 's2', userId: ada.id, refreshHash: 'other', expiresAt: later });
			expect(await store.session('s1')).toEqual({ id: 's1', userId: ada.id, expiresAt: later, revoked: false });
			expect(await store.sessionByRefreshHash('r0')).toMatchObject({ id: 's1' });
			expect(await store.rotateSession('s1', 'not-current', 'r1', later)).toBe(false);
			expect(await store.rotateSession('s1', 'r0', 'r1', later + 1)).toBe(true);
			expect(await store.rotateSession('s1', 'r0', 'r1b', later + 1)).toBe(false);
			expect(await store.sessionByRefreshHash('r0')).toBeUndefined();
			expect(await store.sessionByRefreshHash('r1')).toMatchObject({ id: 's1', expiresAt: later + 1 });
			expect(await store.sessionByRetiredRefreshHash('r0')).toMatchObject({ id: 's1', userId: ada.id, latest: true, revoked: false });
			expect(await store.rotateSession('s1', 'r1', 'r2', later)).toBe(true);
			expect(await store.sessionByRetiredRefreshHash('r0')).toMatchObject({ id: 's1', latest: false });
			expect(await store.sessionByRetiredRefreshHash('r1')).toMatchObject({ id: 's1', latest: true });
			expect(await store.sessionByRetiredRefreshHash('r2')).toBeUndefined();

			await store.createSession({ id: 's4', userId: ada.id, refreshHash: 'r4', expiresAt: later });
			await store.revokeSessions(ada.id, 's4');
			expect([(await store.session('s1'))?.revoked, (await store.session('s2'))?.revoked, (await store.session('s4'))?.revoked]).toEqual([true, true, false]);
			await store.revokeSession('s4');
			expect((await store.session('s4'))?.revoked).toBe(true);
			expect(await store.session('nope')).toBeUndefined();
		});

		test('two processes rotate the same refresh token at the same moment: exactly one wins, every time', async () => {
			const ada = await signUp('ada');
			const ROUNDS = 25;
			for (let i = 0; i < ROUNDS; i++) {
				await store.createSession({ id: `race-${i}`, userId: ada.id, refreshHash: `start-${i}`, expiresAt: Date.now() + 3_600_000 });
			}
			const children = [await child(opened.location), await child(opened.location)];
			try {
				for (let i = 0; i < ROUNDS; i++) {
					const answers = await Promise.all(children.map((c, n) => c.ask(`rotate race-${i} start-${i} won-by-${n}-${i}`)));
					expect([i, answers.filter((a) => a === 'rotated true').length, answers.filter((a) => a === 'rotated false').length]).toEqual([i, 1, 1]);
					const winner = answers.indexOf('rotated true');
					expect((await store.sessionByRefreshHash(`won-by-${winner}-${i}`))?.id).toBe(`race-${i}`);
					expect(await store.sessionByRefreshHash(`won-by-${1 - winner}-${i}`)).toBeUndefined();
				}
			} finally {
				children.forEach((c) => c.close());
			}
		}, 60_000);
	});

	describe('device keys', () => {
		const later = () => Date.now() + 3_600_000;
		const session = async (id: string, userId: string) => store.createSession({ id, userId, refreshHash: `refresh-${id}`, expiresAt: later() });
		const put = (userId: string, deviceId: string, sessionId: string, publicKey = `key-${deviceId}-${sessionId}`) =>
			store.putDeviceKey({ userId, deviceId, sessionId, publicKey });
		const listed = async (userId: string) => (await store.deviceKeys(userId)).map((k) => [k.deviceId, k.sessionId, k.publicKey]);

		test('put, get and list oldest first; a device id is the account\'s own', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await session('ada-1', ada.id);
			await session('ada-2', ada.id);
			await session('bob-1', bob.id);
			const before = Date.now();
			await put(ada.id, 'device-zz', 'ada-1');
			await new Promise((resolve) => setTimeout(resolve, 5));
			await put(ada.id, 'device-aa', 'ada-2');
			await put(bob.id, 'device-zz', 'bob-1');
			const key = await store.deviceKey(ada.id, 'device-zz');
			expect(key).toEqual({ deviceId: 'device-zz', sessionId: 'ada-1', publicKey: 'key-device-zz-ada-1', createdAt: expect.any(Number) });
			expect(key!.createdAt).toBeGreaterThanOrEqual(before);
			expect(key!.createdAt).toBeLessThanOrEqual(Date.now());
			expect(await listed(ada.id)).toEqual([['device-zz', 'ada-1', 'key-device-zz-ada-1'], ['device-aa', 'ada-2', 'key-device-aa-ada-2']]);
			expect(await listed(bob.id)).toEqual([['device-zz', 'bob-1', 'key-device-zz-bob-1']]);
			expect(await store.deviceKey(ada.id, 'no-such-device')).toBeUndefined();
			expect(await store.deviceKey(bob.id, 'device-aa')).toBeUndefined();
			expect(await store.deviceKeys('no-such-user')).toEqual([]);
		});

		test('keys made in the same millisecond list by device id, byte by byte, on both stores', async () => {
			const ada = await signUp('ada');
			const ids = ['b-device', 'B-device', 'a_device', 'a-device', '0-device'];
			for (const id of ids) {
				await session(`s-${id}`, ada.id);
				await put(ada.id, id, `s-${id}`);
			}
			const keys = await store.deviceKeys(ada.id);
			expect(keys).toHaveLength(ids.length);
			for (let i = 1; i < keys.length; i++) {
				const [a, b] = [keys[i - 1]!, keys[i]!];
				expect(a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.deviceId < b.deviceId)).toBe(true);
			}
		});

		test('a put again replaces the key, the session and the time', async () => {
			const ada = await signUp('ada');
			await session('ada-1', ada.id);
			await session('ada-2', ada.id);
			await put(ada.id, 'laptop', 'ada-1', 'first-key');
			const first = (await store.deviceKey(ada.id, 'laptop'))!;
			await new Promise((resolve) => setTimeout(resolve, 5));
			await put(ada.id, 'laptop', 'ada-1', 'second-key');
			const second = (await store.deviceKey(ada.id, 'laptop'))!;
			expect([second.publicKey, second.sessionId]).toEqual(['second-key', 'ada-1']);
			expect(second.createdAt).toBeGreaterThan(first.createdAt);
			// The same device signed in again: its new session owns it.
			await put(ada.id, 'laptop', 'ada-2', 'third-key');
			expect(await listed(ada.id)).toEqual([['laptop', 'ada-2', 'third-key']]);
			await store.revokeSession('ada-1');
			expect(await listed(ada.id)).toEqual([['laptop', 'ada-2', 'third-key']]);
		});

		test('a session has one device: publishing a second device id drops its first', async () => {
			const ada = await signUp('ada');
			await session('ada-1', ada.id);
			await session('ada-2', ada.id);
			await put(ada.id, 'phone', 'ada-1');
			await put(ada.id, 'tablet', 'ada-2');
			await put(ada.id, 'laptop', 'ada-1');
			expect(await store.deviceKey(ada.id, 'phone')).toBeUndefined();
			expect((await listed(ada.id)).sort()).toEqual([['laptop', 'ada-1', 'key-laptop-ada-1'], ['tablet', 'ada-2', 'key-tablet-ada-2']]);
		});

		test('only a live session of the account publishes: revoked, unknown or another account\'s is unauthorized and stores nothing', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await session('ada-1', ada.id);
			await session('bob-1', bob.id);
			await store.revokeSession('ada-1');
			expect(await codeOf(put(ada.id, 'laptop', 'ada-1'))).toBe('unauthorized');
			expect(await codeOf(put(ada.id, 'laptop', 'no-such-session'))).toBe('unauthorized');
			expect(await codeOf(put(ada.id, 'laptop', 'bob-1'))).toBe('unauthorized');
			expect(await codeOf(put('no-such-user', 'laptop', 'bob-1'))).toBe('unauthorized');
			expect(await store.deviceKeys(ada.id)).toEqual([]);
			expect(await store.deviceKeys(bob.id)).toEqual([]);
		});

		test('revokeSession deletes that session\'s key only; revokeSessions keeps the excepted session\'s', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			for (const id of ['ada-1', 'ada-2', 'ada-3', 'ada-4']) {
				await session(id, ada.id);
				await put(ada.id, `device-${id}`, id);
			}
			await session('bob-1', bob.id);
			await put(bob.id, 'device-bob-1', 'bob-1');
			await store.revokeSession('ada-1');
			expect((await listed(ada.id)).map(([deviceId]) => deviceId)).toEqual(['device-ada-2', 'device-ada-3', 'device-ada-4']);
			await store.revokeSessions(ada.id, 'ada-3');
			expect(await listed(ada.id)).toEqual([['device-ada-3', 'ada-3', 'key-device-ada-3-ada-3']]);
			expect((await store.session('ada-2'))?.revoked).toBe(true);
			await store.revokeSessions(ada.id);
			expect(await store.deviceKeys(ada.id)).toEqual([]);
			expect(await listed(bob.id)).toEqual([['device-bob-1', 'bob-1', 'key-device-bob-1-bob-1']]);
		});

		test('deleting the account deletes its keys', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await session('ada-1', ada.id);
			await session('bob-1', bob.id);
			await put(ada.id, 'laptop', 'ada-1');
			await put(bob.id, 'laptop', 'bob-1');
			await store.deleteUser(ada.id);
			expect(await store.deviceKeys(ada.id)).toEqual([]);
			expect(await store.deviceKey(ada.id, 'laptop')).toBeUndefined();
			expect(await listed(bob.id)).toHaveLength(1);
		});
	});

	describe('reports', () => {
		const T = 1_700_000_000_000;
		const report = (reporterId: string, reportedId: string, at: number) => store.addReport({ reporterId, reportedId, at });

		test('one row per reporter and reported account: a repeat report moves at and counts once', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await report(ada.id, bob.id, T);
			await report(ada.id, bob.id, T + 5000);
			expect(await store.reportsAgainst(bob.id, T)).toBe(1);
			// The repeat moved `at`: the report is as recent as the second one.
			expect(await store.reportsAgainst(bob.id, T + 5000)).toBe(1);
			expect(await store.reportsAgainst(bob.id, T + 5001)).toBe(0);
			expect(await store.reportedAccounts(0, 10)).toEqual([{ handle: 'bob', reports: 1, lastReportAt: T + 5000 }]);
			// And back: an older repeat moves it too.
			await report(ada.id, bob.id, T - 1000);
			expect(await store.reportsAgainst(bob.id, T)).toBe(0);
			expect(await store.reportsAgainst(ada.id, 0)).toBe(0);
		});

		test('reportsAgainst counts the accounts that reported at or after since', async () => {
			const [ada, bob, cy, dee, eve] = [await signUp('ada'), await signUp('bob'), await signUp('cy'), await signUp('dee'), await signUp('eve')];
			await report(bob.id, ada.id, T - 1);
			await report(cy.id, ada.id, T);
			await report(dee.id, ada.id, T + 10);
			await report(eve.id, bob.id, T + 20);
			expect(await store.reportsAgainst(ada.id, 0)).toBe(3);
			expect(await store.reportsAgainst(ada.id, T)).toBe(2);
			expect(await store.reportsAgainst(ada.id, T + 10)).toBe(1);
			expect(await store.reportsAgainst(ada.id, T + 11)).toBe(0);
			expect(await store.reportsAgainst(bob.id, T)).toBe(1);
			expect(await store.reportsAgainst('no-such-user', 0)).toBe(0);
		});

		test('reportedAccounts: most reports first, then the newest last report, then by handle; at most limit', async () => {
			const names = ['ada', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus'];
			const users = new Map<string, string>();
			for (const name of names) {
				users.set(name, (await signUp(name)).id);
			}
			const id = (name: string) => users.get(name)!;
			// gus: 3 reports, last at T+3. fay and eve: 2 each, fay's last newer. bob and cy: 1 each at the
			// same time (by handle). dee: reported only before since. ada: never.
			for (const [by, at] of [['ada', T + 1], ['bob', T + 2], ['cy', T + 3]] as const) {
				await report(id(by), id('gus'), at);
			}
			await report(id('ada'), id('eve'), T + 1);
			await report(id('bob'), id('eve'), T + 4);
			await report(id('ada'), id('fay'), T + 2);
			await report(id('bob'), id('fay'), T + 5);
			await report(id('eve'), id('cy'), T + 7);
			await report(id('eve'), id('bob'), T + 7);
			await report(id('ada'), id('dee'), T - 1);
			// dee's old report and one of gus's before since are not counted.
			await report(id('dee'), id('gus'), T - 5);
			const all = await store.reportedAccounts(T, 10);
			expect(all).toEqual([
				{ handle: 'gus', reports: 3, lastReportAt: T + 3 },
				{ handle: 'fay', reports: 2, lastReportAt: T + 5 },
				{ handle: 'eve', reports: 2, lastReportAt: T + 4 },
				{ handle: 'bob', reports: 1, lastReportAt: T + 7 },
				{ handle: 'cy', reports: 1, lastReportAt: T + 7 },
			]);
			expect(await store.reportedAccounts(T, 3)).toEqual(all.slice(0, 3));
			expect((await store.reportedAccounts(0, 10)).map((a) => [a.handle, a.reports])).toEqual([
				['gus', 4], ['fay', 2], ['eve', 2], ['bob', 1], ['cy', 1], ['dee', 1],
			]);
			expect(await store.reportedAccounts(T + 8, 10)).toEqual([]);
		});

		test('rangSince: an incoming call from that handle, started at or after since', async () => {
			const [ada, bob, cy] = [await signUp('ada'), await signUp('bob'), await signUp('cy')];
			const call = (userId: string, callId: string, otherHandle: string, direction: 'incoming' | 'outgoing', startedAt: number) => store.addCallRecord({
				...record(userId, callId, startedAt), otherHandle, otherDisplayName: otherHandle, direction, outcome: direction === 'incoming' ? 'missed' : 'no_answer',
			});
			expect(await store.rangSince(ada.id, 'bob', 0)).toBe(false);
			// bob rang ada long ago; ada rang cy recently; cy's own history has ada ringing it.
			await call(ada.id, 'old', 'bob', 'incoming', T - 1000);
			await call(ada.id, 'out', 'cy', 'outgoing', T + 1000);
			await call(cy.id, 'cy-in', 'ada', 'incoming', T + 1000);
			expect(await store.rangSince(ada.id, 'bob', T - 1000)).toBe(true);
			expect(await store.rangSince(ada.id, 'bob', T)).toBe(false);
			expect(await store.rangSince(ada.id, 'cy', 0)).toBe(false);
			expect(await store.rangSince(bob.id, 'ada', 0)).toBe(false);
			expect(await store.rangSince(cy.id, 'ada', T)).toBe(true);
			// A recent one from bob; the handle compares folded.
			await call(ada.id, 'recent', 'bob', 'incoming', T + 2000);
			expect(await store.rangSince(ada.id, 'bob', T)).toBe(true);
			expect(await store.rangSince(ada.id, 'BOB', T)).toBe(true);
			expect(await store.rangSince(ada.id, 'bo', T)).toBe(false);
			expect(await store.rangSince(ada.id, 'bob', T + 2001)).toBe(false);
			expect(await store.rangSince('no-such-user', 'bob', 0)).toBe(false);
		});

		test('a report from or about an account that is gone is not_found; deleting an account deletes its reports both ways', async () => {
			const [ada, bob, cy] = [await signUp('ada'), await signUp('bob'), await signUp('cy')];
			expect(await codeOf(report('no-such-user', bob.id, T))).toBe('not_found');
			expect(await codeOf(report(ada.id, 'no-such-user', T))).toBe('not_found');
			await report(ada.id, bob.id, T);
			await report(cy.id, bob.id, T);
			await report(bob.id, cy.id, T);
			await report(ada.id, cy.id, T);
			await store.deleteUser(bob.id);
			expect(await store.reportsAgainst(bob.id, 0)).toBe(0);
			expect(await store.reportedAccounts(0, 10)).toEqual([{ handle: 'cy', reports: 1, lastReportAt: T }]);
			await store.deleteUser(ada.id);
			expect(await store.reportedAccounts(0, 10)).toEqual([]);
		});
	});

	describe('call links', () => {
		const T = 1_700_000_000_000;
		const make = (ownerId: string, id: string, at: number, admit: 'anyone' | 'owner' = 'anyone', title = '') => store.createLink({ id, ownerId, admit, title, at });

		test('create, then get by id and list the owner\'s newest first (then by id, byte by byte)', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			const first = await make(ada.id, 'link-a-000000000000000', T, 'owner', 'Standup');
			expect(first).toEqual({ id: 'link-a-000000000000000', ownerId: ada.id, admit: 'owner', title: 'Standup', createdAt: T, lastUsedAt: T });
			expect(await store.link(first.id)).toEqual(first);
			await make(ada.id, 'link-c-000000000000000', T + 10, 'anyone', 'Älteste Runde');
			await make(ada.id, 'link-B-000000000000000', T + 10);
			await make(ada.id, 'link-b-000000000000000', T + 10);
			await make(bob.id, 'link-z-000000000000000', T + 20);
			expect((await store.links(ada.id)).map((l) => l.id)).toEqual([
				'link-B-000000000000000', 'link-b-000000000000000', 'link-c-000000000000000', 'link-a-000000000000000',
			]);
			expect(await store.links(ada.id)).toContainEqual({ id: 'link-c-000000000000000', ownerId: ada.id, admit: 'anyone', title: 'Älteste Runde', createdAt: T + 10, lastUsedAt: T + 10 });
			expect((await store.links(bob.id)).map((l) => l.id)).toEqual(['link-z-000000000000000']);
			expect(await store.links('no-such-user')).toEqual([]);
			expect(await store.link('no-such-link')).toBeUndefined();
		});

		test('a taken id is conflict; a link of an account that is gone is not_found', async () => {
			const ada = await signUp('ada');
			await make(ada.id, 'link-a-000000000000000', T);
			expect(await codeOf(make(ada.id, 'link-a-000000000000000', T + 1))).toBe('conflict');
			expect(await codeOf(make('no-such-user', 'link-b-000000000000000', T))).toBe('not_found');
			expect(await store.link('link-b-000000000000000')).toBeUndefined();
			expect(await store.link('link-a-000000000000000')).toMatchObject({ createdAt: T });
		});

		test('touchLink sets the last use only', async () => {
			const ada = await signUp('ada');
			await make(ada.id, 'link-a-000000000000000', T);
			await make(ada.id, 'link-b-000000000000000', T);
			await store.touchLink('link-a-000000000000000', T + 5000);
			expect(await store.link('link-a-000000000000000')).toMatchObject({ createdAt: T, lastUsedAt: T + 5000 });
			expect(await store.link('link-b-000000000000000')).toMatchObject({ createdAt: T, lastUsedAt: T });
			await store.touchLink('no-such-link', T);
			expect(await store.link('no-such-link')).toBeUndefined();
		});

		test('deleteLink deletes only the owner\'s link, and says whether it did', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await make(ada.id, 'link-a-000000000000000', T);
			expect(await store.deleteLink(bob.id, 'link-a-000000000000000')).toBe(false);
			expect(await store.link('link-a-000000000000000')).toBeDefined();
			expect(await store.deleteLink(ada.id, 'link-a-000000000000000')).toBe(true);
			expect(await store.link('link-a-000000000000000')).toBeUndefined();
			expect(await store.deleteLink(ada.id, 'link-a-000000000000000')).toBe(false);
			expect(await store.links(ada.id)).toEqual([]);
		});

		test('deleting an account deletes its links, and only its', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			await make(ada.id, 'link-a-000000000000000', T);
			await make(ada.id, 'link-b-000000000000000', T);
			await make(bob.id, 'link-c-000000000000000', T);
			await store.deleteUser(ada.id);
			expect(await store.link('link-a-000000000000000')).toBeUndefined();
			expect(await store.links(ada.id)).toEqual([]);
			expect((await store.links(bob.id)).map((l) => l.id)).toEqual(['link-c-000000000000000']);
		});
	});

	describe('webhook queue', () => {
		const event = (n: number) => ({ eventId: `event-${n}`, body: `{"n":${n}}`, createdAt: 1000 + n });

		test('a queue per (node, URL), oldest first; a delivered event leaves it, twice is nothing', async () => {
			const [a, b] = ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'];
			for (let n = 1; n <= 3; n++) {
				expect(await store.queueWebhook('node-1', [a, b], event(n), 10)).toEqual([]);
			}
			await store.queueWebhook('node-2', [a], event(9), 10);
			const queued = await store.queuedWebhooks('node-1', a, 10);
			expect(queued.map(({ url, eventId, body, createdAt }) => ({ url, eventId, body, createdAt }))).toEqual([1, 2, 3].map((n) => ({ url: a, ...event(n) })));
			expect(queued.map((q) => q.seq)).toEqual([...queued.map((q) => q.seq)].sort((x, y) => x - y));
			expect((await store.queuedWebhooks('node-1', a, 2)).map((q) => q.eventId)).toEqual(['event-1', 'event-2']);
			await store.webhookDelivered(queued[0]!.seq);
			await store.webhookDelivered(queued[0]!.seq);
			expect((await store.queuedWebhooks('node-1', a, 10)).map((q) => q.eventId)).toEqual(['event-2', 'event-3']);
			expect((await store.queuedWebhooks('node-1', b, 10)).map((q) => q.eventId)).toEqual(['event-1', 'event-2', 'event-3']);
			expect((await store.queuedWebhooks('node-2', a, 10)).map((q) => q.eventId)).toEqual(['event-9']);
			expect(await store.queuedWebhooks('node-3', a, 10)).toEqual([]);
		});

		test('a full queue takes no more and says which URL was full; the others still take it', async () => {
			const [a, b] = ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'];
			await store.queueWebhook('node-1', [a], event(1), 2);
			await store.queueWebhook('node-1', [a], event(2), 2);
			expect(await store.queueWebhook('node-1', [a, b], event(3), 2)).toEqual([a]);
			expect((await store.queuedWebhooks('node-1', a, 10)).map((q) => q.eventId)).toEqual(['event-1', 'event-2']);
			expect((await store.queuedWebhooks('node-1', b, 10)).map((q) => q.eventId)).toEqual(['event-3']);
			// Another node's queue for the same URL is its own.
			expect(await store.queueWebhook('node-2', [a], event(4), 2)).toEqual([]);
		});
	});

	describe('call history', () => {
		test('pages newest first; calls started in the same millisecond are neither lost nor repeated across pages', async () => {
			const [ada, bob] = [await signUp('ada'), await signUp('bob')];
			// 23 calls: runs of 4 in one millisecond, inserted out of time order.
			const times = Array.from({ length: 23 }, (_, i) => 10_000 + Math.floor(((i * 7) % 23) / 4) * 1000);
			for (const [i, startedAt] of times.entries()) {
				await store.addCallRecord(record(ada.id, `call-${i}`, startedAt, i));
			}
			await store.addCallRecord(record(bob.id, 'bobs-own', 99_000));
			const seen: CallRecord[] = [];
			let before: CallRecord['cursor'];
			for (let pages = 0; pages < 10; pages++) {
				const page = await store.callHistory(ada.id, { before, limit: 5 });
				seen.push(...page);
				if (page.length < 5) {
					break;
				}
				before = page[page.length - 1]!.cursor;
			}
			expect(seen.map((r) => r.callId).sort()).toEqual(times.map((_, i) => `call-${i}`).sort());
			const order = seen.map((r) => r.startedAt);
			expect(order).toEqual([...order].sort((a, b) => b - a));
			// Within one millisecond, newest insert first.
			for (let i = 1; i < seen.length; i++) {
				if (seen[i]!.startedAt === seen[i - 1]!.startedAt) {
					expect(Number(seen[i]!.callId.split('-')[1])).toBeLessThan(Number(seen[i - 1]!.callId.split('-')[1]));
				}
			}
			expect(seen[0]).toEqual({
				callId: seen[0]!.callId, userId: ada.id, otherHandle: 'bob', otherDisplayName: 'Bob B', direction: 'outgoing', media: 'video',
				outcome: 'answered', startedAt: seen[0]!.startedAt, durationMs: seen[0]!.durationMs, cursor: seen[0]!.cursor,
			});
			expect((await store.callHistory(bob.id, { limit: 50 })).map((r) => r.callId)).toEqual(['bobs-own']);
		});
	});

	test('a lock held past the wait: service_unavailable, and the store answers again once it is released', async () => {
		const ada = await signUp('ada');
		const impatient = await opened.impatient();
		const lock = await opened.lockUsers();
		try {
			expect(await codeOf(impatient.updateUser(ada.id, { verified: true }))).toBe('service_unavailable');
			expect(await codeOf(impatient.setRelation('contact', ada.id, 'bob', true))).toBe('service_unavailable');
		} finally {
			await lock.release();
		}
		expect(await impatient.updateUser(ada.id, { verified: true })).toMatchObject({ verified: true });
	});
});

function record(userId: string, callId: string, startedAt: number, durationMs = 0): CallRecord {
	return { callId, userId, otherHandle: 'bob', otherDisplayName: 'Bob B', direction: 'outgoing', media: 'video', outcome: 'answered', startedAt, durationMs };
}

/** test/helpers/storeChild.ts on `location`: `ask` sends one line and resolves with the answer. */
async function child(location: string): Promise<{ ask(line: string): Promise<string>; close(): void }> {
	const kind = location.startsWith('postgres') ? 'postgres' : 'sqlite';
	const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'test', 'helpers', 'storeChild.ts'), kind, location], {
		cwd: PROJECT_DIR, stdio: ['pipe', 'pipe', 'pipe'],
	});
	let stderr = '';
	proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
	const lines = readline.createInterface({ input: proc.stdout! });
	const waiting: ((line: string) => void)[] = [];
	lines.on('line', (line) => waiting.shift()?.(line));
	const next = () => new Promise<string>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no answer from the store process:\n${stderr}`)), 20_000);
		waiting.push((line) => {
			clearTimeout(timer);
			resolve(line);
		});
	});
	expect(await next()).toBe('ready');
	return {
		ask(line) {
			const answer = next();
			proc.stdin!.write(`${line}\n`);
			return answer;
		},
		close() {
			proc.stdin!.end();
			proc.kill();
		},
	};
}
