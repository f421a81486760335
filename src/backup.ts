/**
 * `npm run backup -- FILE`: an online backup of the SQLite store (the one in
 * the effective config's store.path) to FILE, safe while the node runs. A
 * PostgreSQL store (store.url) is backed up with PostgreSQL's own tools
 * (pg_dump); see docs/store.md.
 */
import { ConfigError, loadConfig } from './config';
import { SqliteStore } from './store';

async function main(argv: string[]): Promise<void> {
	const [file, ...rest] = argv;
	if (!file || rest.length > 0 || file.startsWith('-')) {
		throw new Error('usage: npm run backup -- FILE');
	}
	const config = loadConfig();
	if (config.store.url !== null) {
		throw new Error('store.url is set: this node keeps its accounts in PostgreSQL, which is backed up with pg_dump ' +
			'(a consistent snapshot while the fleet runs; see docs/store.md), not with this command');
	}
	const store = SqliteStore.open(config.store.path);
	try {
		await store.backup(file);
	} finally {
		await store.close();
	}
	process.stdout.write(`backed up ${config.store.path} to ${file}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
	const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
	process.stderr.write(`switchyard backup: ${message}\n`);
	process.exit(1);
});
