/**
 * `npm run backup -- FILE`: an online backup of the SQLite store (the one in
 * the effective config's store.path) to FILE, safe while the node runs.
 */
import { ConfigError, loadConfig } from './config';
import { SqliteStore } from './store';

async function main(argv: string[]): Promise<void> {
	const [file, ...rest] = argv;
	if (!file || rest.length > 0 || file.startsWith('-')) {
		throw new Error('usage: npm run backup -- FILE');
	}
	const config = loadConfig();
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
