import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostgresStore, SqliteStore, type CallRecord } from '../../src/store';
import { PROJECT_DIR } from '../helpers/child';
import { testLogger } from '../helpers/logger';
import { freshDatabase } from '../helpers/postgres';

test('the backup command copies the configured store online, while it is open', async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-backup-'));
	try {
		const live = SqliteStore.open(path.join(dir, 'live.db'));
		await live.createUser({ handle: 'kept_user', displayName: 'Kept', passwordHash: 'x' });
		const target = path.join(dir, 'copies', 'backup.db');
		// The live store stays open (and written) while the backup runs.
		const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'src', 'backup.ts'), target], {
			cwd: PROJECT_DIR, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHYARD_STORE_PATH: path.join(dir, 'live.db') },
		});
		expect([result.status, result.stderr]).toEqual([0, '']);
		expect(result.stdout).toContain('backed up');
		await live.close();
		const copy = SqliteStore.open(target);
		expect(await copy.userByHandle('kept_user')).toMatchObject({ displayName: 'Kept' });
		await copy.close();

		const usage = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'src', 'backup.ts')], { cwd: PROJECT_DIR, encoding: 'utf8' });
		expect(usage.status).toBe(1);
		expect(usage.stderr).toContain('usage: npm run backup -- FILE');
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('with store.url set the backup command refuses and points to pg_dump, without the password', () => {
	const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_DIR, 'src', 'backup.ts'), path.join(os.tmpdir(), 'never-written.db')], {
		cwd: PROJECT_DIR, encoding: 'utf8',
		env: { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHYARD_STORE_URL: 'postgres://fleet:hunter2-backup@127.0.0.1:1/switchyard' },
	});
	expect(result.status).toBe(1);
	expect(result.stderr).toContain('switchyard backup: store.url is set: this node keeps its accounts in PostgreSQL, which is backed up with pg_dump');
	expect(result.stdout + result.stderr).not.toContain('hunter2');
	expect(fs.existsSync(path.join(os.tmpdir(), 'never-written.db'))).toBe(false);
});

test('PostgreSQL: the pg_dump and pg_restore of docs/store.md give a database a node opens with everything in it', async () => {
	const [source, target] = [await freshDatabase(), await freshDatabase()];
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-pgdump-'));
	const { logger } = testLogger('error');
	const open = (url: string) => PostgresStore.open({ url, poolSize: 2, connectTimeoutMs: 5000, queryTimeoutMs: 10_000, startupTimeoutMs: 10_000 }, logger);
	const call = (userId: string, callId: string): CallRecord => ({
		callId, userId, otherHandle: 'other', otherDisplayName: 'Other', direction: 'outgoing', media: 'audio', outcome: 'answered', startedAt: 1000, durationMs: 0,
	});
	try {
		const live = await open(source.url);
		const user = await live.createUser({ handle: 'dumped_user', displayName: 'Émile Dumped', passwordHash: 'x' });
		await live.addCallRecord(call(user.id, 'before-dump'));
		// The node keeps its pool open (and could write) while the dump runs.
		const file = path.join(dir, 'switchyard.dump');
		for (const [tool, args] of [['pg_dump', ['--format=custom', `--file=${file}`, source.url]], ['pg_restore', [`--dbname=${target.url}`, '--no-owner', file]]] as const) {
			const result = spawnSync(tool, args, { encoding: 'utf8' });
			expect([tool, result.status, result.stderr]).toEqual([tool, 0, '']);
		}
		await live.close();
		const restored = await open(target.url);
		try {
			expect(await restored.userByHandle('dumped_user')).toEqual(user);
			expect((await restored.searchUsers({ prefix: 'émile', limit: 5 })).map((u) => u.handle)).toEqual(['dumped_user']);
			// The history's sequence came along: a call recorded after the restore sorts after the old one.
			await restored.addCallRecord(call(user.id, 'after-restore'));
			expect((await restored.callHistory(user.id, { limit: 5 })).map((r) => r.callId)).toEqual(['after-restore', 'before-dump']);
		} finally {
			await restored.close();
		}
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
		await source.drop();
		await target.drop();
	}
});
