import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store';
import { PROJECT_DIR } from '../helpers/child';

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
